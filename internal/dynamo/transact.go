package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// transactTries is how often a transaction that DynamoDB cancelled for a
// conflict with another one in flight is tried.
const transactTries = 6

// transact writes items in one transaction. DynamoDB cancels a transaction
// with TransactionConflict when another one touches the same item at the
// same moment (two creates of a backup, two executes of a restore): that
// says nothing about the conditions, so it is tried again after a short,
// random pause; the retry then meets the winner's write and fails on its
// condition like any loser. A conflict that persists is an
// apperr.Conflict ("try again"), not a server error. Cancellations for a
// condition are returned as they are, for the caller to read.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	var err error
	for try := range transactTries {
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if !conflicted(err) {
			return err
		}
		pause := time.Duration(rand.Int64N(int64(10*time.Millisecond) << try))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	return apperr.New(apperr.Conflict, "another change to the same data was being written at the same moment: try again").
		With("cause", fmt.Sprintf("TransactionConflict %d times", transactTries))
}

// conflicted reports whether a transaction was cancelled for a conflict
// with another transaction only (no condition failed).
func conflicted(err error) bool {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		return false
	}
	conflict := false
	for _, r := range canceled.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			return false
		case "TransactionConflict":
			conflict = true
		}
	}
	return conflict
}
