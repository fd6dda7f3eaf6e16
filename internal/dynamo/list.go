package dynamo

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/crmbackup/crmbackup/internal/listing"
)

// maxFilteredCalls bounds the Queries of one filtered page.
const maxFilteredCalls = 8

// queryPage reads one page of an account's items whose SK is prefix + a
// ULID in q's range, in q's order, after q.After, keeping those filter
// accepts (nil: all), each decoded as an I and turned into a *T by value.
// It reads one item more than the page holds, to know whether a next page
// exists.
func queryPage[I, T any](ctx context.Context, s *Store, accountID, prefix string, q listing.Query, filter *expression.ConditionBuilder, value func(*I) *T) (listing.Page[*T], error) {
	var out listing.Page[*T]
	if err := q.Check(); err != nil {
		return out, err
	}
	lo, hi := q.Range()
	b := expression.NewBuilder().WithKeyCondition(expression.KeyAnd(
		expression.Key("PK").Equal(expression.Value(pk(accountID))),
		expression.Key("SK").Between(expression.Value(prefix+lo), expression.Value(prefix+hi))))
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return out, err
	}
	n := q.Size()
	in := &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: expr.KeyCondition(), FilterExpression: expr.Filter(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(q.Oldest),
	}
	if filter == nil {
		in.Limit = aws.Int32(int32(n + 1))
	}
	// With a filter, DynamoDB's Limit counts items before the filter: a
	// Query reads up to 1 MB instead, and a request stops after
	// maxFilteredCalls of them, with a page that may hold fewer items than
	// asked and a next position where it stopped.
	if q.After != "" {
		in.ExclusiveStartKey = key(pk(accountID), prefix+q.After)
	}
	var keys []string
	for calls := 1; ; calls++ {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return out, fmt.Errorf("query %s of %s: %w", strings.TrimSuffix(prefix, "#"), accountID, err)
		}
		for _, m := range page.Items {
			if len(keys) == n+1 {
				break
			}
			var it I
			if err := unmarshal(m, &it); err != nil {
				return out, err
			}
			sk, _ := m["SK"].(*types.AttributeValueMemberS)
			if sk == nil {
				return out, fmt.Errorf("query %s of %s: an item without SK", prefix, accountID)
			}
			keys = append(keys, strings.TrimPrefix(sk.Value, prefix))
			out.Items = append(out.Items, value(&it))
		}
		if len(out.Items) > n {
			out.Items, out.Next = out.Items[:n], keys[n-1]
			break
		}
		if page.LastEvaluatedKey == nil {
			break
		}
		if filter != nil && calls == maxFilteredCalls {
			last, _ := page.LastEvaluatedKey["SK"].(*types.AttributeValueMemberS)
			if last != nil {
				out.Next = strings.TrimPrefix(last.Value, prefix)
			}
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return out, nil
}
