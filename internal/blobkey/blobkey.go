// Package blobkey is the one place that names crmbackup's files in the
// backups bucket. The domain builds every key it writes or reads with these
// functions, the S3 adapter labels each file by its kind, and the CDK app
// derives the functions' object grants and the bucket's lifecycle rules from
// the kinds (Kinds, Lifecycle), so a new file cannot be written where no
// grant or expiry reaches it without a test saying so.
//
// Two top-level folders, each with its own lifetime:
//
//	backups/<account>/<backup>/<file>.zip           the ZIP an admin downloads
//	backups/<account>/imports/<import>/errors.csv   values HubSpot refused in a restore
//	work/<account>/<backup>/objects.json            what discovery found
//	work/<account>/<backup>/chunks/<object>/NNNNNN.deflate[.state]
//	work/<account>/imports/<import>/errors/NNNNNNNNNNNN.csv
//
// It imports only the standard library, so the CDK app can use it without
// compiling the AWS SDK.
package blobkey

import (
	"fmt"
	"path"
	"strings"
)

// The top-level folders.
const (
	// Backups holds what admins download: kept for the 14 days a backup can
	// be downloaded (the error CSV of a restore holds CRM values and goes
	// with the backups).
	Backups = "backups/"
	// Work holds a run's intermediate files: removed when the run ends, and
	// by the lifecycle a day later if it never ended.
	Work = "work/"
)

// Lifetimes of the folders in days (the bucket's lifecycle rules).
const (
	BackupsDays = 14
	WorkDays    = 1
)

// Lifecycle lists each folder with the days after which the bucket expires
// what is in it.
var Lifecycle = []Rule{{Name: "backups", Prefix: Backups, Days: BackupsDays}, {Name: "work-files", Prefix: Work, Days: WorkDays}}

// Rule is one lifecycle rule: objects under Prefix expire after Days.
type Rule struct {
	Name   string
	Prefix string
	Days   int
}

// WorkDir is the folder of a backup's work files (discovery and chunks).
func WorkDir(accountID, backupID string) string {
	return Work + accountID + "/" + backupID + "/"
}

// Discovery is the file that records what discovery found for a backup.
func Discovery(accountID, backupID string) string {
	return WorkDir(accountID, backupID) + "objects.json"
}

// Chunk is chunk n of an object's export.
func Chunk(accountID, backupID, object string, n int) string {
	return fmt.Sprintf("%schunks/%s/%06d.deflate", WorkDir(accountID, backupID), object, n)
}

// ChunkState is the state blob beside chunk n (the running CRC-32 and
// SHA-256 of the object's CSV after it).
func ChunkState(accountID, backupID, object string, n int) string {
	return Chunk(accountID, backupID, object, n) + ".state"
}

// ZIP is where a backup's ZIP is stored.
func ZIP(accountID, backupID, fileName string) string {
	return Backups + accountID + "/" + backupID + "/" + fileName
}

// ErrorChunks is the folder of an import's error chunks.
func ErrorChunks(accountID, importID string) string {
	return Work + accountID + "/imports/" + importID + "/errors/"
}

// ErrorChunk is the error chunk of the execute step that began at row:
// named by its row, so a retried step rewrites its own; the names sort by
// row.
func ErrorChunk(accountID, importID string, row int64) string {
	return fmt.Sprintf("%s%012d.csv", ErrorChunks(accountID, importID), row)
}

// Journals is the folder of an import's journal: per batch, what a try of
// the batch meant to write (ids and property names, no values), so that a
// retry counts what an earlier try wrote.
func Journals(accountID, importID string) string {
	return Work + accountID + "/imports/" + importID + "/journal/"
}

// Journal is the journal entry of the batch that begins at row.
func Journal(accountID, importID string, row int64) string {
	return fmt.Sprintf("%s%012d.json", Journals(accountID, importID), row)
}

// ErrorFile is an import's error CSV, joined from its chunks.
func ErrorFile(accountID, importID string) string {
	return Backups + accountID + "/imports/" + importID + "/errors.csv"
}

// Kind is one kind of file: the IAM object-key pattern that covers every key
// of the kind (`*` matches any run of characters, `/` included, as in IAM
// and S3 lifecycle filters), an example the functions above build, and the
// media type the file is stored with.
type Kind struct {
	Name        string
	Pattern     string
	Example     string
	ContentType string
}

// The kinds of file.
var (
	KindDiscovery = Kind{"discovery", Work + "*/objects.json", Discovery("acme", "01B"), "application/json"}
	// A chunk's pattern covers its state blob too: they are written and
	// read together.
	KindChunk      = Kind{"chunk", Work + "*/chunks/*", Chunk("acme", "01B", "contacts", 0), "application/octet-stream"}
	KindZIP        = Kind{"backup ZIP", Backups + "*.zip", ZIP("acme", "01B", "crm-backup-1-20261101T000000Z.zip"), "application/zip"}
	KindErrorChunk = Kind{"error chunk", Work + "*/imports/*/errors/*.csv", ErrorChunk("acme", "01I", 0), "text/csv; charset=utf-8"}
	KindErrorFile  = Kind{"error CSV", Backups + "*/imports/*/errors.csv", ErrorFile("acme", "01I"), "text/csv; charset=utf-8"}
	KindJournal    = Kind{"restore journal", Work + "*/imports/*/journal/*.json", Journal("acme", "01I", 0), "application/json"}
)

// Kinds lists every kind of file.
func Kinds() []Kind {
	return []Kind{KindDiscovery, KindChunk, KindZIP, KindErrorChunk, KindErrorFile, KindJournal}
}

// KindOf returns the kind of a key (false if the key is of no kind: a key the
// layout does not know).
func KindOf(key string) (Kind, bool) {
	for _, k := range Kinds() {
		if Match(k.Pattern, key) {
			return k, true
		}
	}
	return Kind{}, false
}

// ContentType is the media type a file is stored with.
func ContentType(key string) string {
	if k, ok := KindOf(key); ok {
		return k.ContentType
	}
	switch path.Ext(key) {
	case ".zip":
		return "application/zip"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Match reports whether key matches an IAM-style pattern: `*` matches any
// run of characters (including `/`), `?` any one character.
func Match(pattern, key string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			rest := strings.TrimLeft(pattern, "*")
			if rest == "" {
				return true
			}
			for i := range len(key) + 1 {
				if Match(rest, key[i:]) {
					return true
				}
			}
			return false
		case '?':
			if key == "" {
				return false
			}
			pattern, key = pattern[1:], key[1:]
		default:
			if key == "" || pattern[0] != key[0] {
				return false
			}
			pattern, key = pattern[1:], key[1:]
		}
	}
	return key == ""
}
