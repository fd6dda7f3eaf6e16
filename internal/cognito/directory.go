package cognito

import (
	"context"

	"github.com/crmbackup/crmbackup/internal/operator"
)

// Directory is the pool as the operator's directory of admins.
type Directory struct{ Pool *Pool }

var _ operator.Directory = Directory{}

// CreateAdmin creates the admin's user, which Cognito invites by e-mail.
func (d Directory) CreateAdmin(ctx context.Context, a operator.Admin) (*operator.Admin, error) {
	u, err := d.Pool.CreateUser(ctx, a.Email, a.AccountID, a.Role)
	if err != nil {
		return nil, err
	}
	ad := admin(*u)
	return &ad, nil
}

// Admins lists every user of the pool.
func (d Directory) Admins(ctx context.Context) ([]operator.Admin, error) {
	users, err := d.Pool.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]operator.Admin, 0, len(users))
	for _, u := range users {
		out = append(out, admin(u))
	}
	return out, nil
}

// DeleteAdmin deletes the admin's user.
func (d Directory) DeleteAdmin(ctx context.Context, email string) error {
	return d.Pool.DeleteUser(ctx, email)
}

func admin(u User) operator.Admin {
	return operator.Admin{Email: u.Email, AccountID: u.AccountID, Role: u.Role, Status: u.Status, Enabled: u.Enabled, Created: u.Created}
}
