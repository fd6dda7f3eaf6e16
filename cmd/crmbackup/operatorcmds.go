package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crmbackup/crmbackup/internal/apperr"
	"github.com/crmbackup/crmbackup/internal/backup"
	"github.com/crmbackup/crmbackup/internal/operator"
)

// operatorCommand is a command of the stack's operator: it works on the
// stack's table, secrets and user pool with the operator's own AWS
// credentials (or on the local stack's stand-ins).
func operatorCommand(io stdio, use, short string, args cobra.PositionalArgs, run func(c *cobra.Command, t *target, tools *operatorTools, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: usageArgs(args), RunE: func(c *cobra.Command, args []string) error {
		t, err := resolve(c)
		if err != nil {
			return err
		}
		tools, err := t.operatorTools(c.Context())
		if err != nil {
			return err
		}
		return run(c, t, tools, args)
	}}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func isJSON(c *cobra.Command) bool { j, _ := c.Flags().GetBool(flagJSON); return j }

// readCredential reads a credential from standard input: never from the
// command line or the environment (which shells keep in their history and
// other processes can read).
func readCredential(io stdio, what string) (string, error) {
	p := &prompter{io: io}
	if !io.terminal {
		b, err := readAll(io.in, 16<<10)
		if err != nil {
			return "", fmt.Errorf("reading the credential from standard input: %w", err)
		}
		return strings.TrimSpace(b), nil
	}
	return p.secret(what + " (input hidden): ")
}

func readAll(r io.Reader, limit int64) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit))
	return string(b), err
}

func printCheck(w io.Writer, c *operator.Check) {
	fmt.Fprintf(w, "  portal      %d (account type %s, time zone %s, %s)\n", c.PortalID, c.AccountType, c.TimeZone, c.UIDomain)
	fmt.Fprintf(w, "  objects     %s\n", strings.Join(c.Objects, ", "))
	scopes := func(name string, s []string) {
		if len(s) == 0 {
			fmt.Fprintf(w, "  %-11s every scope it needs\n", name)
			return
		}
		fmt.Fprintf(w, "  %-11s MISSING %s\n", name, strings.Join(s, ", "))
	}
	scopes("backups", c.MissingBackup)
	scopes("restores", c.MissingRestore)
	scopes("admins", c.MissingUsers)
}

func accountsCommand(io stdio) *cobra.Command {
	var in operator.AddInput
	var tier string
	add := operatorCommand(io, "add --id ID --name NAME --tier TIER", "Add a HubSpot account: the credential is read from standard input and checked with HubSpot",
		cobra.NoArgs, func(c *cobra.Command, t *target, tools *operatorTools, _ []string) error {
			in.Tier = backup.Tier(tier)
			cred, err := readCredential(io, "HubSpot service key (or private-app token) of the portal")
			if err != nil {
				return err
			}
			in.Credential = cred
			acc := tools.accounts()
			a, check, err := acc.Add(c.Context(), in)
			if check != nil && !isJSON(c) {
				fmt.Fprintf(io.out, "HubSpot says of the credential:\n")
				printCheck(io.out, check)
			}
			if err != nil {
				return err
			}
			if isJSON(c) {
				return printJSON(io.out, map[string]any{"account": a, "check": check})
			}
			fmt.Fprintf(io.out, "Added account %s (%s, %s, portal %d) to %s.\nNext: "+self()+" admins add --account %s --email SUPER_ADMIN_EMAIL\n", a.ID, a.Name, a.Tier, a.PortalID, t.name, a.ID)
			return nil
		})
	f := add.Flags()
	f.StringVar(&in.ID, "id", "", "the account's id in crmbackup: lowercase letters, digits and dashes (required)")
	f.StringVar(&in.Name, "name", "", "the account's name, for people")
	f.StringVar(&tier, "tier", "", "the portal's HubSpot subscription: starter, professional or enterprise (sets the backup quota and schedules; required)")
	f.IntVar(&in.RequestsPer10s, "requests-per-10s", 0, "the portal's HubSpot API limit (default 100 on Starter, 190 otherwise; 250 with the API limit increase)")
	f.StringVar(&in.APIVersion, "api-version", "", "HubSpot API version to speak (default the latest dated one)")
	f.BoolVar(&in.LeaveOutSensitive, "leave-out-sensitive", false, "leave Sensitive and Highly Sensitive properties out of backups (the credential then needs no sensitive scopes)")
	f.BoolVar(&in.AllowMissingScopes, "allow-missing-scopes", false, "add it even if HubSpot says scopes are missing (they are listed)")
	f.BoolVar(&in.AllowSharedPortal, "allow-shared-portal", false, "add it even if another account has the same portal (their backups then share the portal's API limit)")
	add.MarkFlagRequired("id")
	add.MarkFlagRequired("tier")

	list := operatorCommand(io, "list", "List the stack's accounts", cobra.NoArgs, func(c *cobra.Command, t *target, tools *operatorTools, _ []string) error {
		list, err := tools.store.Accounts(c.Context())
		if err != nil || isJSON(c) {
			if err == nil {
				err = printJSON(io.out, list)
			}
			return err
		}
		w := newTable(io.out)
		fmt.Fprintln(w, "ID\tNAME\tTIER\tPORTAL\tLIMIT/10s\tSENSITIVE DATA")
		for _, a := range list {
			sens := "backed up"
			switch {
			case a.LeaveOutSensitive:
				sens = "left out"
			case a.Tier != backup.Enterprise:
				sens = "none (Enterprise only)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%s\n", a.ID, a.Name, a.Tier, a.PortalID, a.RequestsPer10s, sens)
		}
		return w.Flush()
	})

	check := operatorCommand(io, "check ID", "Check an account's credential with HubSpot again: the portal, and the scopes that are missing", cobra.ExactArgs(1),
		func(c *cobra.Command, t *target, tools *operatorTools, args []string) error {
			acc := tools.accounts()
			_, chk, err := acc.Check(c.Context(), args[0], func(ref string) (string, error) { return tools.credential(c.Context(), ref) })
			if err != nil {
				return err
			}
			if isJSON(c) {
				printJSON(io.out, chk)
			} else {
				fmt.Fprintf(io.out, "Account %s:\n", args[0])
				printCheck(io.out, chk)
			}
			if !chk.OK() {
				return apperr.New(apperr.Conflict, "the credential lacks scopes the product needs (listed above)")
			}
			return nil
		})

	setTier := operatorCommand(io, "set-tier ID TIER", "Change an account's HubSpot tier (starter, professional, enterprise)", cobra.ExactArgs(2),
		func(c *cobra.Command, t *target, tools *operatorTools, args []string) error {
			acc := tools.accounts()
			a, err := acc.SetTier(c.Context(), args[0], backup.Tier(args[1]))
			if err != nil {
				return err
			}
			if isJSON(c) {
				return printJSON(io.out, a)
			}
			fmt.Fprintf(io.out, "Account %s is %s: one backup every %s, %d requests/10 s to HubSpot.\n", a.ID, a.Tier, window(a.Tier.QuotaWindow()), a.RequestsPer10s)
			return nil
		})

	var allowMissing bool
	rotate := operatorCommand(io, "rotate-credential ID", "Replace an account's credential (read from standard input) with one HubSpot accepts for the same portal", cobra.ExactArgs(1),
		func(c *cobra.Command, t *target, tools *operatorTools, args []string) error {
			cred, err := readCredential(io, "The new HubSpot service key (or private-app token)")
			if err != nil {
				return err
			}
			acc := tools.accounts()
			chk, err := acc.RotateCredential(c.Context(), args[0], cred, allowMissing)
			if chk != nil && !isJSON(c) {
				printCheck(io.out, chk)
			}
			if err != nil {
				return err
			}
			if isJSON(c) {
				return printJSON(io.out, map[string]any{"accountId": args[0], "check": chk})
			}
			fmt.Fprintf(io.out, "Account %s uses the new credential from now on (running steps pick it up within 15 minutes, at once on a 401).\n", args[0])
			return nil
		})
	rotate.Flags().BoolVar(&allowMissing, "allow-missing-scopes", false, "store it even if HubSpot says scopes are missing")

	var yes bool
	remove := operatorCommand(io, "remove ID", "Remove an account: its settings, credential and admins (asks for confirmation)", cobra.ExactArgs(1),
		func(c *cobra.Command, t *target, tools *operatorTools, args []string) error {
			acc := tools.accounts()
			left, err := acc.Leftovers(c.Context(), args[0])
			if err != nil {
				return err
			}
			var admins []operator.Admin
			if tools.directory != nil {
				svc := tools.adminService()
				if admins, err = svc.List(c.Context(), args[0]); err != nil {
					return err
				}
			}
			say := io.out // the story goes to stderr under --json
			if isJSON(c) {
				say = io.err
			}
			fmt.Fprintf(say, "Removing account %s (%s) from %s deletes its settings, its HubSpot credential (in Secrets Manager: recoverable for 7 days) and its %d admins.\n", left.Account.ID, left.Account.Name, t.name, len(admins))
			if left.Backups > 0 {
				fmt.Fprintf(say, "Its %d backups can no longer be downloaded through crmbackup; their files are deleted by the bucket's lifecycle, the last on %s.\n", left.Backups, when(left.LastUntil))
			}
			fmt.Fprintf(say, "Its backup history and audit log stay in the table, and its id stays portal %d's.\n", left.Account.PortalID)
			if !yes {
				if !io.terminal {
					fmt.Fprintln(io.err, "crmbackup accounts remove: give --yes to confirm (no terminal to ask)")
					return errUsage
				}
				ans, err := (&prompter{io: io}).line("Type the account's id to confirm: ")
				if err != nil {
					return err
				}
				if ans != left.Account.ID {
					return apperr.New(apperr.Invalid, "not confirmed: nothing was removed")
				}
			}
			if _, err := acc.Remove(c.Context(), args[0]); err != nil {
				return err
			}
			svc := tools.adminService()
			for _, ad := range admins {
				if _, err := svc.Remove(c.Context(), ad.Email); err != nil && !apperr.Is(err, apperr.NotFound) {
					return fmt.Errorf("account %s is removed, but its admin %s is not (`"+self()+" admins remove %s`): %w", args[0], ad.Email, ad.Email, err)
				}
			}
			if isJSON(c) {
				return printJSON(io.out, map[string]any{"removed": args[0], "backupsLeft": left.Backups, "lastUntil": left.LastUntil, "adminsRemoved": len(admins)})
			}
			fmt.Fprintf(io.out, "Removed account %s and its %d admins (a session they hold ends within the hour).\n", args[0], len(admins))
			return nil
		})
	remove.Flags().BoolVar(&yes, "yes", false, "confirm without asking")
	return group("accounts", "Operators: the HubSpot accounts the stack backs up", add, list, check, setTier, rotate, remove)
}

func adminsCommand(io stdio) *cobra.Command {
	admins := func(tools *operatorTools) (*operator.Admins, error) {
		if tools.directory == nil {
			return nil, errors.New("the stack trusts another identity provider: manage its admins there (custom:account_id and custom:role claims)")
		}
		return tools.adminService(), nil
	}
	var in operator.AddAdminInput
	add := operatorCommand(io, "add --account ID --email EMAIL", "Add an admin: HubSpot must list the e-mail as a Super Admin of the account's portal",
		cobra.NoArgs, func(c *cobra.Command, t *target, tools *operatorTools, _ []string) error {
			svc, err := admins(tools)
			if err != nil {
				return err
			}
			ad, v, err := svc.Add(c.Context(), in)
			if err != nil {
				return err
			}
			if isJSON(c) {
				return printJSON(io.out, map[string]any{"admin": ad, "hubspot": v})
			}
			fmt.Fprintf(io.out, "Added %s as an admin of %s (%s).\n", ad.Email, ad.AccountID, v.Why)
			if in.Override {
				fmt.Fprintln(io.out, "The override and its reason are in the account's audit log.")
			}
			if t.local == "" {
				fmt.Fprintln(io.out, "Cognito e-mails them a temporary password; their first `"+self()+" login` sets their password and two-factor.")
			} else {
				fmt.Fprintf(io.out, "They sign in with: "+self()+" login --email %s\n", ad.Email)
			}
			return nil
		})
	add.Flags().StringVar(&in.AccountID, "account", "", "the account's id (required)")
	add.Flags().StringVar(&in.Email, "email", "", "the admin's e-mail, as in HubSpot (required)")
	add.Flags().BoolVar(&in.Override, "override", false, "add someone HubSpot does not list as a Super Admin (needs --reason; recorded in the audit log)")
	add.Flags().StringVar(&in.Reason, "reason", "", "why the override")
	add.MarkFlagRequired("account")
	add.MarkFlagRequired("email")

	var account string
	list := operatorCommand(io, "list", "List the admins (of one account with --account)", cobra.NoArgs, func(c *cobra.Command, t *target, tools *operatorTools, _ []string) error {
		svc, err := admins(tools)
		if err != nil {
			return err
		}
		l, err := svc.List(c.Context(), account)
		if err != nil || isJSON(c) {
			if err == nil {
				err = printJSON(io.out, l)
			}
			return err
		}
		w := newTable(io.out)
		fmt.Fprintln(w, "EMAIL\tACCOUNT\tROLE\tSTATUS\tCREATED")
		for _, a := range l {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.Email, a.AccountID, a.Role, a.Status, when(a.Created))
		}
		return w.Flush()
	})
	list.Flags().StringVar(&account, "account", "", "only this account's")

	remove := operatorCommand(io, "remove EMAIL", "Remove an admin", cobra.ExactArgs(1), func(c *cobra.Command, t *target, tools *operatorTools, args []string) error {
		svc, err := admins(tools)
		if err != nil {
			return err
		}
		ad, err := svc.Remove(c.Context(), args[0])
		if err != nil {
			return err
		}
		if isJSON(c) {
			return printJSON(io.out, ad)
		}
		fmt.Fprintf(io.out, "Removed %s (admin of %s); a session they hold ends within the hour (the ID token's lifetime).\n", ad.Email, ad.AccountID)
		return nil
	})

	check := operatorCommand(io, "check", "Ask HubSpot whether every admin is still a Super Admin of their portal (exit 4 if one is not)", cobra.NoArgs,
		func(c *cobra.Command, t *target, tools *operatorTools, _ []string) error {
			svc, err := admins(tools)
			if err != nil {
				return err
			}
			vs, err := svc.Check(c.Context(), account)
			if err != nil {
				return err
			}
			if isJSON(c) {
				printJSON(io.out, vs)
			} else {
				w := newTable(io.out)
				fmt.Fprintln(w, "EMAIL\tACCOUNT\tSUPER ADMIN\tHUBSPOT SAYS")
				for _, v := range vs {
					yes := "yes"
					if !v.SuperAdmin {
						yes = "NO"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", v.Email, v.AccountID, yes, v.Why)
				}
				w.Flush()
			}
			var not []string
			for _, v := range vs {
				if !v.SuperAdmin {
					not = append(not, v.Email)
				}
			}
			if len(not) > 0 {
				return apperr.New(apperr.Forbidden, "no longer Super Admins: %s (`crmbackup admins remove EMAIL`)", strings.Join(not, ", "))
			}
			return nil
		})
	check.Flags().StringVar(&account, "account", "", "only this account's admins")
	return group("admins", "Operators: the portals' Super Admins who use the stack", add, list, remove, check)
}
