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
		ScanIndexForward: aws.Bool(q.Oldest), Limit: aws.Int32(int32(n + 1)),
	}
	if q.After != "" {
		in.ExclusiveStartKey = key(pk(accountID), prefix+q.After)
	}
	var keys []string
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() && len(keys) <= n {
		page, err := p.NextPage(ctx)
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
	}
	if len(out.Items) > n {
		out.Items, out.Next = out.Items[:n], keys[n-1]
	}
	return out, nil
}
