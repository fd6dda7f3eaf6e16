package restore

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/crmbackup/crmbackup/internal/hubspot"
)

// update writes inputs with batch updates and returns HubSpot's errors by
// record id. Every input is accounted for: HubSpot's answer must list it as
// updated (results) or name it in an error; one it does neither for is
// refused, never counted as written. A batch HubSpot refuses whole (a 400 or
// 409, e.g. a value breaking one of the portal's validation rules) is split
// in halves until the refused inputs stand alone: they are recorded with
// HubSpot's reason, the rest written.
func (p *Pass) update(ctx context.Context, objectType string, inputs []hubspot.UpdateInput) (map[string][]hubspot.BatchError, error) {
	failed := map[string][]hubspot.BatchError{}
	res, err := p.CRM.BatchUpdate(ctx, objectType, inputs)
	var he *hubspot.Error
	if errors.As(err, &he) && (he.StatusCode == http.StatusBadRequest || he.StatusCode == http.StatusConflict) {
		if len(inputs) == 1 {
			failed[inputs[0].ID] = []hubspot.BatchError{{Category: he.Category, Message: he.Message, IDs: []string{inputs[0].ID}}}
			return failed, nil
		}
		mid := len(inputs) / 2
		for _, part := range [][]hubspot.UpdateInput{inputs[:mid], inputs[mid:]} {
			f, err := p.update(ctx, objectType, part)
			if err != nil {
				return nil, err
			}
			maps.Copy(failed, f)
		}
		return failed, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range res.Errors {
		for _, id := range e.IDs {
			failed[id] = append(failed[id], e)
		}
	}
	updated := make(map[string]bool, len(res.Objects))
	for _, o := range res.Objects {
		updated[o.ID] = true
	}
	for _, in := range inputs {
		if !updated[in.ID] && failed[in.ID] == nil {
			failed[in.ID] = []hubspot.BatchError{{Category: "UNCONFIRMED", IDs: []string{in.ID},
				Message: "HubSpot's answer neither listed the record as updated nor named an error for it; it is counted as not written"}}
		}
	}
	return failed, nil
}

// reportError records one refused value with HubSpot's reason (the error
// naming the property, else the input's first error).
func (p *Pass) reportError(id, prop, value string, errs []hubspot.BatchError) error {
	if p.Errors == nil {
		return nil
	}
	msg := errs[0].Category + ": " + errs[0].Message
	for _, e := range errs {
		if slices.Contains(e.Properties, prop) {
			msg = e.Category + ": " + e.Message
		}
	}
	return p.Errors(ErrorRow{RecordID: id, Property: prop, Value: value, Error: msg})
}
