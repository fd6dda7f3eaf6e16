package api

import (
	"context"
	"net/http"
	"regexp"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/audit"
	"github.com/crmbackup/crmbackup/internal/auth"
	"github.com/crmbackup/crmbackup/internal/listing"
	"github.com/crmbackup/crmbackup/internal/restore"
)

// Restores is what the API needs of the restore service.
type Restores interface {
	CreatePlan(ctx context.Context, accountID string, who audit.Actor, backupID string, req restore.PlanRequest) (*restore.Plan, error)
	Plan(ctx context.Context, accountID, id string) (*restore.Plan, error)
	Execute(ctx context.Context, c *auth.Caller, planID string, ack restore.Acknowledgements) (*restore.Import, error)
	Import(ctx context.Context, accountID, id string) (*restore.Import, error)
	Imports(ctx context.Context, accountID string, q listing.Query) (listing.Page[*restore.Import], error)
	ErrorsURL(ctx context.Context, accountID, id string, who audit.Actor) (string, error)
	Objects(ctx context.Context, accountID, backupID string) ([]restore.ObjectChoice, error)
	Properties(ctx context.Context, accountID, backupID, object string) ([]restore.PropertyChoice, error)
}

func (s *Server) restoreRoutes(r *routes) {
	r.handle("GET /v1/backups/{id}/objects", s.authed(s.objects))
	r.handle("GET /v1/backups/{id}/objects/{type}/properties", s.authed(s.properties))
	r.handle("POST /v1/backups/{id}/restore-plans", s.authed(s.createPlan))
	r.handle("GET /v1/restore-plans/{id}", s.authed(s.getPlan))
	r.handle("POST /v1/restore-plans/{id}/execute", s.authed(s.execute))
	r.handleQuery("GET /v1/imports", s.authed(list(lister[*restore.Import]{name: "imports", fetch: s.imports}, viewImport)))
	r.handle("GET /v1/imports/{id}", s.authed(s.getImport))
	r.handle("GET /v1/imports/{id}/errors", s.authed(redirect(s.errorsURL)))
}

// PlanCountsNote says what a plan's counts mean once time has passed.
const PlanCountsNote = "Counts and samples describe the portal when the plan was computed (computedAt). " +
	"Executing re-reads every record's current values batch by batch, so a value changed since is still " +
	"restored to the backup's value (or left alone if it already has it); the import's counts say what was done."

// planView is a plan as the API shows it: with what an admin must read
// before executing it.
type planView struct {
	*restore.Plan
	Counts           *restore.ImportCounts `json:"counts,omitempty"`
	CountsNote       string                `json:"countsNote"`
	WorkflowWarning  string                `json:"workflowWarning"`
	MissingAdvice    string                `json:"missingAdvice"`
	Acknowledgements []string              `json:"acknowledgementsRequired"`
	ExecuteURL       string                `json:"executeUrl,omitempty"`
}

func viewPlan(p *restore.Plan) planView {
	v := planView{Plan: p, CountsNote: PlanCountsNote, WorkflowWarning: restore.WorkflowWarning, MissingAdvice: restore.MissingAdvice,
		Acknowledgements: []string{
			"acknowledgeDataChange: the values of these properties will change in the portal",
			"acknowledgeIrreversible: the restore cannot be undone",
		}}
	if p.Tally != nil && p.Status != restore.Planning { // while planning, it holds samples only
		c := restore.CountsOf(p.Tally)
		v.Counts = &c
	}
	if p.Status == restore.Ready {
		v.ExecuteURL = "/v1/restore-plans/" + p.ID + "/execute"
	}
	return v
}

// importView is an import as the API shows it.
type importView struct {
	*restore.Import
	ErrorsURL string `json:"errorsUrl,omitempty"`
}

func viewImport(im *restore.Import) importView {
	v := importView{Import: im}
	if im.ErrorKey != "" {
		v.ErrorsURL = "/v1/imports/" + im.ID + "/errors"
	}
	return v
}

func (s *Server) createPlan(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	var req restore.PlanRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := s.Restores.CreatePlan(r.Context(), account, c.Actor(), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/restore-plans/"+p.ID)
	writeJSON(w, http.StatusAccepted, viewPlan(p))
	return nil
}

func (s *Server) getPlan(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	p, err := s.Restores.Plan(r.Context(), account, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewPlan(p))
	return nil
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	var ack restore.Acknowledgements
	if err := decode(r, &ack); err != nil {
		return err
	}
	im, err := s.Restores.Execute(r.Context(), c, r.PathValue("id"), ack)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/imports/"+im.ID)
	writeJSON(w, http.StatusAccepted, viewImport(im))
	return nil
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	im, err := s.Restores.Import(r.Context(), account, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewImport(im))
	return nil
}

// objectType is what names an object in a path: a name (deals, p_pets)
// or a type id (0-3, 2-123456).
var objectType = regexp.MustCompile(`^[A-Za-z0-9_-]{1,100}$`)

func (s *Server) objects(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	objs, err := s.Restores.Objects(r.Context(), account, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"objects": objs})
	return nil
}

func (s *Server) properties(w http.ResponseWriter, r *http.Request, c *auth.Caller, account string) error {
	object := r.PathValue("type")
	if !objectType.MatchString(object) {
		return apperr.New(apperr.NotFound, "no object %q", clip(object, 40))
	}
	props, err := s.Restores.Properties(r.Context(), account, r.PathValue("id"), object)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": object, "properties": props})
	return nil
}
