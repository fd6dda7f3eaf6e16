package backup

import (
	"context"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// DailyCheckBelow: while HubSpot says more than this many requests are left
// of the portal's day, a backup starts without counting what it needs (no
// backup under 10 million records needs as many).
const DailyCheckBelow = 200_000

// dailyLimiter is what the CRM says of the portal's daily limit
// (hubspot.Client, from its answers' X-HubSpot-RateLimit-Daily headers).
type dailyLimiter interface {
	DailyLimit() (limit, remaining int, ok bool)
}

// checkDailyLimit refuses a backup that would exhaust the portal's daily
// request limit before it starts: a backup cut off by HubSpot's DAILY 429
// would fail hours in and leave the portal's other integrations without
// requests until midnight. When little is left, it counts each object's
// records (one search each) and estimates the requests the export makes:
// a list page or batch read per 100 records (two for an object too wide for
// a list URL), a search per 200 for the ranges of a large one.
func checkDailyLimit(ctx context.Context, crm CRM, objs []Object) error {
	dl, ok := crm.(dailyLimiter)
	if !ok {
		return nil
	}
	limit, left, known := dl.DailyLimit()
	if !known || left > DailyCheckBelow {
		return nil
	}
	sr, ok := crm.(Searcher)
	if !ok {
		return nil
	}
	need := 0
	for _, o := range objs {
		if o.Name == Conversations {
			need += 1 // threads: 500 a page; a portal's inboxes are small beside its records
			continue
		}
		r, err := sr.SearchIDs(ctx, o.TypeID, 0, 0, 1, false)
		if err != nil {
			return nil // unknown: let the export run (HubSpot's 429 still stops it plainly)
		}
		perPage := 1
		if listsByID(crm, o) {
			perPage = 2
		}
		need += 1 + (r.Total+hubspot.MaxPageSize-1)/hubspot.MaxPageSize*perPage + (r.Total+hubspot.MaxSearchPage-1)/hubspot.MaxSearchPage
	}
	if need > left {
		return apperr.New(apperr.Invalid, "HubSpot's daily API limit would run out during this backup: it needs about %d requests, "+
			"and the portal has %d of its %d left today. HubSpot resets the limit at midnight in the portal's time zone; "+
			"try again then, or once other integrations use less", need, left, limit)
	}
	return nil
}

// byIDLister is what the CRM says of how it lists an object
// (hubspot.Client): by id, each page's records then batch-read, when their
// property list is too long for a list URL.
type byIDLister interface {
	ListsByID(objectType string, properties []string) bool
}

// listsByID reports whether the export lists o by id and batch-reads its
// records: two requests per 100 records. A CRM that does not say is taken
// to list everything in one request.
func listsByID(crm CRM, o Object) bool {
	l, ok := crm.(byIDLister)
	if !ok {
		return false
	}
	return l.ListsByID(o.TypeID, o.propertyNames())
}
