// Package notify publishes notifications: to an SNS topic on AWS (e-mail
// subscriptions filter on the accountId attribute), to the log locally.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/crmbackup/crmbackup/internal/backup"
)

// SNS publishes to a topic.
type SNS struct {
	Client   *sns.Client
	TopicARN string
}

var _ backup.Publisher = SNS{}

// Publish sends n with its account as a message attribute.
func (p SNS) Publish(ctx context.Context, n *backup.Notification) error {
	subject := Subject(n.Subject)
	msg := n.Message
	if n.Link != "" {
		msg += "\n\n" + n.Link
	}
	_, err := p.Client.Publish(ctx, &sns.PublishInput{
		TopicArn: &p.TopicARN, Subject: &subject, Message: &msg,
		MessageAttributes: map[string]types.MessageAttributeValue{
			"accountId": {DataType: aws.String("String"), StringValue: aws.String(n.AccountID)},
			"kind":      {DataType: aws.String("String"), StringValue: aws.String(n.Kind)},
		},
	})
	if err != nil {
		return fmt.Errorf("sns publish %s: %w", n.Kind, err)
	}
	return nil
}

// MaxSubjectRunes is the longest subject SNS takes: under 100 characters.
const MaxSubjectRunes = 99

// Subject makes s a valid SNS subject: control characters (line breaks
// included) become spaces, and it is cut to MaxSubjectRunes characters,
// never inside one, with an ellipsis.
func Subject(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= MaxSubjectRunes {
		return s
	}
	r := []rune(s)
	return string(r[:MaxSubjectRunes-1]) + "…"
}

// Log writes notifications to a logger (the local stack's stand-in for SNS).
type Log struct{ Logger *slog.Logger }

// Publish logs n.
func (p Log) Publish(ctx context.Context, n *backup.Notification) error {
	p.Logger.InfoContext(ctx, "notification", "accountId", n.AccountID, "kind", n.Kind, "subject", n.Subject, "message", n.Message)
	return nil
}
