package hubspot

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
)

// The portal's users, from HubSpot's user provisioning API (Settings →
// Users): how crmbackup knows that an e-mail address belongs to a Super
// Admin of the portal. Reading users needs the scope settings.users.read
// (HubSpot's reference accepts crm.objects.users.read as well).

// ErrNotSuperAdmin: the portal has a user with the e-mail address, and that
// user is not a Super Admin.
var ErrNotSuperAdmin = errors.New("hubspot: not a Super Admin of the portal")

// maxUsersPage is the most users HubSpot returns per page.
const maxUsersPage = 100

// User is one user of the portal.
type User struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
	// RoleIDs are the user's roles (permission sets); a Super Admin
	// usually has none.
	RoleIDs          []string
	PrimaryTeamID    string
	SecondaryTeamIDs []string
	// SuperAdmin: the user is a Super Admin of the portal.
	SuperAdmin bool
}

// wireUser is a user as HubSpot sends it. HubSpot's schema has superAdmin
// as a boolean but its reference examples quote it ("false"): either is
// read.
type wireUser struct {
	ID               string         `json:"id"`
	Email            string         `json:"email"`
	FirstName        string         `json:"firstName"`
	LastName         string         `json:"lastName"`
	RoleIDs          []string       `json:"roleIds"`
	RoleID           string         `json:"roleId"` // the older single role
	PrimaryTeamID    string         `json:"primaryTeamId"`
	SecondaryTeamIDs []string       `json:"secondaryTeamIds"`
	SuperAdmin       jsontext.Value `json:"superAdmin"`
}

func (w wireUser) user() (User, error) {
	u := User{
		ID: w.ID, Email: w.Email, FirstName: w.FirstName, LastName: w.LastName,
		RoleIDs: w.RoleIDs, PrimaryTeamID: w.PrimaryTeamID, SecondaryTeamIDs: w.SecondaryTeamIDs,
	}
	if len(u.RoleIDs) == 0 && w.RoleID != "" {
		u.RoleIDs = []string{w.RoleID}
	}
	switch string(w.SuperAdmin) {
	case "true", `"true"`:
		u.SuperAdmin = true
	case "", "null", "false", `"false"`:
	default:
		// A check of who may restore a portal does not guess.
		return User{}, fmt.Errorf("user %s: superAdmin is %s, neither true nor false", w.ID, w.SuperAdmin)
	}
	return u, nil
}

type usersResponse struct {
	Results []wireUser `json:"results"`
	Paging  *struct {
		Next *struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// Users lists every user of the portal, page by page (HubSpot's cursor
// paging), in HubSpot's order. The iteration stops after the first error,
// which it yields.
func (c *Client) Users(ctx context.Context) iter.Seq2[User, error] {
	path := c.paths.usersList()
	pages := cursorPages(ctx, "", func(ctx context.Context, after string) ([]User, string, error) {
		q := url.Values{"limit": {strconv.Itoa(maxUsersPage)}}
		if after != "" {
			q.Set("after", after)
		}
		var resp usersResponse
		if err := c.do(ctx, http.MethodGet, path, q, nil, &resp); err != nil {
			return nil, "", fmt.Errorf("list users after %q: %w", after, err)
		}
		users := make([]User, 0, len(resp.Results))
		for _, w := range resp.Results {
			u, err := w.user()
			if err != nil {
				return nil, "", fmt.Errorf("list users after %q: %w", after, err)
			}
			users = append(users, u)
		}
		next := ""
		if resp.Paging != nil && resp.Paging.Next != nil {
			next = resp.Paging.Next.After
		}
		return users, next, nil
	})
	return func(yield func(User, error) bool) {
		for page, err := range pages {
			if err != nil {
				yield(User{}, err)
				return
			}
			for _, u := range page {
				if !yield(u, nil) {
					return
				}
			}
		}
	}
}

// UserByEmail returns the portal's user with the e-mail address, compared
// without regard to case; an error matching ErrNotFound when there is none.
//
// It asks HubSpot for the address (idProperty=EMAIL). HubSpot does not say
// whether that lookup ignores case, so a miss (or an answer for another
// address) is checked against the list of every user before it is
// reported: a typed "Admin@Example.com" finds admin@example.com.
func (c *Client) UserByEmail(ctx context.Context, email string) (*User, error) {
	email = strings.TrimSpace(email)
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	var w wireUser
	err := c.do(ctx, http.MethodGet, c.paths.user(email), url.Values{"idProperty": {"EMAIL"}}, nil, &w)
	switch {
	case err == nil:
		u, err := w.user()
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", email, err)
		}
		if strings.EqualFold(u.Email, email) {
			return &u, nil
		}
	case !errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("user %s: %w", email, err)
	}
	for u, err := range c.Users(ctx) {
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", email, err)
		}
		if strings.EqualFold(u.Email, email) {
			return &u, nil
		}
	}
	return nil, fmt.Errorf("user %s: %w", email, ErrNotFound)
}

// SuperAdmin returns the portal's user with the e-mail address (compared
// without regard to case) if that user is a Super Admin. When the user is
// not one, it returns the user and an error matching ErrNotSuperAdmin; when
// the portal has no such user, an error matching ErrNotFound.
func (c *Client) SuperAdmin(ctx context.Context, email string) (*User, error) {
	u, err := c.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if !u.SuperAdmin {
		return u, fmt.Errorf("user %s: %w", u.Email, ErrNotSuperAdmin)
	}
	return u, nil
}

// checkEmail refuses what cannot be an e-mail address, or would not stay
// one path segment.
func checkEmail(email string) error {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.ContainsAny(email, "/ \t\r\n") {
		return fmt.Errorf("%w: %q is not an e-mail address", ErrValidation, email)
	}
	return nil
}
