package connector

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsManager reads secrets from AWS Secrets Manager.
type SecretsManager struct{ Client *secretsmanager.Client }

// SecretString returns the current value of the secret arn.
func (s SecretsManager) SecretString(ctx context.Context, arn string) (string, error) {
	out, err := s.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &arn})
	if err != nil {
		return "", fmt.Errorf("secret %s: %w", arn, err)
	}
	return aws.ToString(out.SecretString), nil
}
