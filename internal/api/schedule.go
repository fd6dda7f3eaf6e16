package api

import (
	"context"
	"net/http"

	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/schedule"
)

// Schedules is what the API needs of the schedule service.
type Schedules interface {
	Get(ctx context.Context, accountID string) (*schedule.View, error)
	Put(ctx context.Context, accountID string, who audit.Actor, req schedule.Request) (*schedule.View, error)
}

func (s *Server) scheduleRoutes(r *routes) {
	r.handle("GET /v1/backup-schedule", s.authed(s.getSchedule))
	r.handle("PUT /v1/backup-schedule", s.authed(s.putSchedule))
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	v, err := s.Schedules.Get(r.Context(), account)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) putSchedule(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	var req schedule.Request
	if err := decode(r, &req); err != nil {
		return err
	}
	v, err := s.Schedules.Put(r.Context(), account, c.Actor(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) notificationRoutes(r *routes) {
	r.handleQuery("GET /v1/notifications", s.authed(list(lister[*backup.Notification]{name: "notifications", fetch: s.notifications, more: s.unread},
		same[*backup.Notification])))
	r.handle("POST /v1/notifications/{id}/read", s.authed(s.markRead))
	r.handle("POST /v1/notifications/read-all", s.authed(s.markAllRead))
}

func (s *Server) notifications(ctx context.Context, account string, q listing.Query, _ string) (listing.Page[*backup.Notification], error) {
	return s.Notifications.Notifications(ctx, account, q)
}

func (s *Server) unread(ctx context.Context, account string) (map[string]any, error) {
	n, err := s.Notifications.UnreadCount(ctx, account)
	if err != nil {
		return nil, err
	}
	return map[string]any{"unread": n}, nil
}

type emptyRequest struct{}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	if err := decode(r, &emptyRequest{}); err != nil {
		return err
	}
	if err := s.Notifications.MarkRead(r.Context(), account, r.PathValue("id"), s.now()); err != nil {
		return err
	}
	return s.writeUnread(w, r, account, nil)
}

func (s *Server) markAllRead(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	if err := decode(r, &emptyRequest{}); err != nil {
		return err
	}
	n, err := s.Notifications.MarkAllRead(r.Context(), account, s.now())
	if err != nil {
		return err
	}
	return s.writeUnread(w, r, account, map[string]any{"marked": n})
}

// writeUnread answers a read with the unread count that remains.
func (s *Server) writeUnread(w http.ResponseWriter, r *http.Request, account string, body map[string]any) error {
	more, err := s.unread(r.Context(), account)
	if err != nil {
		return err
	}
	if body == nil {
		body = map[string]any{}
	}
	for k, v := range more {
		body[k] = v
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
