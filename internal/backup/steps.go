package backup

import "time"

// StepInput identifies the backup a workflow step works on.
type StepInput struct {
	AccountID string `json:"accountId"`
	BackupID  string `json:"backupId"`
}

// DiscoverOutput lists the objects to export.
type DiscoverOutput struct {
	Objects []string `json:"objects"`
}

// Checkpoint is where an object's export stands. It is the whole state of
// the export loop, small enough for the workflow's payload.
type Checkpoint struct {
	// After is the list cursor of the first record not yet in a chunk.
	After  string `json:"after,omitempty"`
	Chunks int    `json:"chunks"`
	Rows   int64  `json:"rows"`
	// Bytes is the size of the CSV so far (header included), Compressed
	// that of its chunks (see chunk.go).
	Bytes      int64 `json:"bytes"`
	Compressed int64 `json:"compressed"`
	Done       bool  `json:"done"`
	// LastID is the id of the last record in a chunk (list chains).
	LastID int64 `json:"lastId,omitempty"`
	// Plain: the object is read as one list chain, never as ranges.
	Plain bool `json:"plain,omitempty"`
	// ListFrom: the list's cursor reads as a record id, so a range may be
	// read by the list from a position of its own — proven again, against
	// search, each time one starts (ranges.go, readList); false once a
	// proof failed.
	ListFrom bool `json:"listFrom,omitempty"`
	// Ranges, for a large object, are the ranges of its ids read side by
	// side (ranges.go); Chunks, Rows, Bytes and Compressed are then their
	// sums, and After is unused.
	Ranges []Range `json:"ranges,omitempty"`
	// The time span over which the object was read.
	SnapshotStart time.Time `json:"snapshotStart,omitzero"`
	SnapshotEnd   time.Time `json:"snapshotEnd,omitzero"`
}

// ExportInput is one invocation of the export loop of one object.
type ExportInput struct {
	StepInput
	Object     string     `json:"object"`
	Checkpoint Checkpoint `json:"checkpoint"`
}

// ExportResult is an object's final checkpoint, as the export loop ends.
type ExportResult struct {
	Object     string     `json:"object"`
	Checkpoint Checkpoint `json:"checkpoint"`
}

// ZipInput is the zip step's input: every object's final checkpoint.
type ZipInput struct {
	StepInput
	Exports []ExportResult `json:"exports"`
}

// ZipOutput describes the ZIP written.
type ZipOutput struct {
	Key         string          `json:"key"`
	FileName    string          `json:"fileName"`
	Size        int64           `json:"size"`
	SHA256      string          `json:"sha256"`
	CompletedAt time.Time       `json:"completedAt"`
	Objects     []ObjectSummary `json:"objects"`
	Omitted     []Omission      `json:"omitted,omitempty"`
}

// FinalizeInput ends a backup: with the ZIP, or with the error that failed it.
type FinalizeInput struct {
	StepInput
	Zip   *ZipOutput `json:"zip,omitempty"`
	Error *StepError `json:"error,omitempty"`
}

// NotifyInput asks to notify the admins of a backup's outcome.
type NotifyInput struct {
	StepInput
}

// FinalizeOutput is what the finalize step returns (kept small: the state
// machine discards it).
type FinalizeOutput struct {
	Status Status `json:"status"`
}

// NotifyOutput is what the notify step returns.
type NotifyOutput struct {
	Notified bool `json:"notified"`
}
