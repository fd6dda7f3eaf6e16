package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Slots are an account's HubSpot request slots, shared by every Lambda
// container that calls its portal (hubspot.Slots): one item per account and
// limit (SK = SLOTS#<name>) holding the time of the next free slot, in
// microseconds. A claim is one conditional update in the usual case:
//   - when the next free slot is still ahead (the portal is busy), it adds
//     the claim's length to it (atomic: claims never overlap);
//   - when it lies in the past (idle), it sets it to now plus the length.
//
// If the guess is wrong the other update follows. The item expires a day
// after its last claim (TTL).
type Slots struct {
	s         *Store
	accountID string
	name      string
	busy      atomic.Bool // the last claim found the portal busy: try that first
}

// Slots returns the account's shared slots of one limit: "burst" for the
// portal's 10-second limit, "search" for the search API's own.
func (s *Store) Slots(accountID, name string) *Slots {
	return &Slots{s: s, accountID: accountID, name: name}
}

const slotsTTL = 24 * time.Hour

func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// Claim implements hubspot.Slots.
func (sl *Slots) Claim(ctx context.Context, n int, interval time.Duration) (time.Time, error) {
	length := strconv.FormatInt((time.Duration(n) * interval).Microseconds(), 10)
	// Each failed condition means another claim succeeded in between, so
	// the claims as a whole always progress; many at once may take a few
	// turns (a claim's context bounds them).
	for range 64 {
		now := time.Now()
		if sl.busy.Load() {
			out, err := sl.update(ctx, "SET nx = nx + :len, #ttl = :ttl", "nx >= :now",
				map[string]string{":len": length, ":now": micros(now)}, now)
			if err == nil {
				v, ok := out.Attributes["nx"].(*types.AttributeValueMemberN)
				if !ok {
					return time.Time{}, fmt.Errorf("slots of account %s: no next slot in the answer", sl.accountID)
				}
				us, err := strconv.ParseInt(v.Value, 10, 64)
				if err != nil {
					return time.Time{}, fmt.Errorf("slots of account %s: %w", sl.accountID, err)
				}
				return time.UnixMicro(us), nil
			}
			if !isConditionFailed(err) {
				return time.Time{}, fmt.Errorf("claim request slots of account %s: %w", sl.accountID, err)
			}
			sl.busy.Store(false)
			continue
		}
		end := now.Add(time.Duration(n) * interval)
		_, err := sl.update(ctx, "SET nx = :end, #ttl = :ttl", "attribute_not_exists(nx) OR nx < :now",
			map[string]string{":end": micros(end), ":now": micros(now)}, now)
		if err == nil {
			return time.UnixMicro(now.UnixMicro()), nil
		}
		if !isConditionFailed(err) {
			return time.Time{}, fmt.Errorf("claim request slots of account %s: %w", sl.accountID, err)
		}
		sl.busy.Store(true)
	}
	return time.Time{}, fmt.Errorf("claim request slots of account %s: the next slot kept moving", sl.accountID)
}

// Hold implements hubspot.Slots.
func (sl *Slots) Hold(ctx context.Context, until time.Time) error {
	_, err := sl.update(ctx, "SET nx = :until, #ttl = :ttl", "attribute_not_exists(nx) OR nx < :until",
		map[string]string{":until": micros(until)}, time.Now())
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("hold request slots of account %s: %w", sl.accountID, err)
	}
	return nil
}

func (sl *Slots) update(ctx context.Context, update, cond string, nums map[string]string, now time.Time) (*dynamodb.UpdateItemOutput, error) {
	values := map[string]types.AttributeValue{
		":ttl": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(slotsTTL).Unix(), 10)},
	}
	for k, v := range nums {
		values[k] = &types.AttributeValueMemberN{Value: v}
	}
	return sl.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &sl.s.table, Key: key(pk(sl.accountID), "SLOTS#"+sl.name),
		UpdateExpression: &update, ConditionExpression: &cond,
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueUpdatedOld,
	})
}
