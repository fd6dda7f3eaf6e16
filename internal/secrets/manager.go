// Package secrets keeps the accounts' HubSpot credentials: in AWS Secrets
// Manager under the stack's name prefix (Manager), or, for the local
// stack, in files of its data folder (Files). Both read what they write
// (the connector's SecretReader) and write what `crmbackup accounts`
// adds, rotates and removes.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/crmbackup/crmbackup/internal/apperr"
)

// Manager is AWS Secrets Manager.
type Manager struct {
	Client *secretsmanager.Client
	// Prefix is the stack's secret name prefix (its HubSpotSecretPrefix
	// output): every account's secret is Prefix + account id, which is
	// what the functions may read.
	Prefix string
	// RecoveryDays is how long a removed credential can be restored
	// (default 7, Secrets Manager's shortest).
	RecoveryDays int64
}

// SecretString returns the current value of the secret arn.
func (m Manager) SecretString(ctx context.Context, arn string) (string, error) {
	out, err := m.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", arn, err)
	}
	return aws.ToString(out.SecretString), nil
}

var validName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)

// CreateSecret stores an account's credential as Prefix + accountID and
// returns its ARN. An existing secret of that name is a conflict (one
// scheduled for deletion too: Secrets Manager keeps its name until then).
func (m Manager) CreateSecret(ctx context.Context, accountID, value string) (string, error) {
	if m.Prefix == "" {
		return "", errors.New("the stack's secret name prefix is unknown")
	}
	name := m.Prefix + accountID
	if accountID == "" || !validName.MatchString(name) {
		return "", apperr.New(apperr.Invalid, "secret name %q: Secrets Manager allows letters, digits and /_+=.@-", name)
	}
	out, err := m.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         &name,
		Description:  aws.String("HubSpot credential of crmbackup account " + accountID),
		SecretString: &value,
		Tags:         []types.Tag{{Key: aws.String("crmbackup:account"), Value: &accountID}},
	})
	var exists *types.ResourceExistsException
	var invalid *types.InvalidRequestException
	switch {
	case errors.As(err, &exists):
		return "", apperr.New(apperr.Conflict, "a secret named %s exists already (left by an account removed less than its recovery window ago, or made by hand): restore it with `aws secretsmanager restore-secret` or delete it first", name)
	case errors.As(err, &invalid) && strings.Contains(invalid.ErrorMessage(), "scheduled for deletion"):
		return "", apperr.New(apperr.Conflict, "the secret %s of a removed account is scheduled for deletion: restore it (`aws secretsmanager restore-secret --secret-id %s`) or wait until it is gone", name, name)
	case err != nil:
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	return aws.ToString(out.ARN), nil
}

// PutSecret stores a new value of the secret ref (the account's ARN).
func (m Manager) PutSecret(ctx context.Context, ref, value string) error {
	if _, err := m.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &ref, SecretString: &value}); err != nil {
		return fmt.Errorf("put secret %s: %w", ref, err)
	}
	return nil
}

// DeleteSecret schedules the secret ref for deletion after the recovery
// window; a missing one is no error.
func (m Manager) DeleteSecret(ctx context.Context, ref string) error {
	days := m.RecoveryDays
	if days == 0 {
		days = 7
	}
	_, err := m.Client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: &ref, RecoveryWindowInDays: &days})
	var missing *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("delete secret %s: %w", ref, err)
	}
	return nil
}

// DiscardSecret deletes the secret ref at once, without a recovery window:
// for a credential stored by an add that then failed, so that the add can
// be tried again under the same name.
func (m Manager) DiscardSecret(ctx context.Context, ref string) error {
	_, err := m.Client.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: &ref, ForceDeleteWithoutRecovery: aws.Bool(true)})
	var missing *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &missing) {
		return fmt.Errorf("delete secret %s: %w", ref, err)
	}
	return nil
}
