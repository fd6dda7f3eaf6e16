package operator

import (
	"context"
	"log/slog"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// HubSpot opens clients on HubSpot's API, or on the local stack's
// emulator (BaseURL).
type HubSpot struct {
	BaseURL string // default hubspot.DefaultBaseURL
	Log     *slog.Logger
}

// Open returns a client of the account's portal with credential.
func (h HubSpot) Open(_ context.Context, a *backup.Account, credential string) (CRM, error) {
	c, err := hubspot.New(hubspot.Config{BaseURL: h.BaseURL, Token: credential, RequestsPer10s: a.RequestsPer10s,
		APIVersion: a.APIVersion, Logger: h.Log, UserAgent: "crmbackup-operator"})
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "account %s: %v", a.ID, err)
	}
	return c, nil
}
