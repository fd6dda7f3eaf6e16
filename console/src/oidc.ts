// Sign-in through the stack's Cognito managed login: the authorization
// code flow with PKCE (RFC 7636). The tokens stay in memory; only the
// verifier and the state survive the round trip to the login page, in
// sessionStorage, and are removed when the code comes back.

export interface Config {
  api: string; // the API's base URL ("" : the console's own origin)
  signIn: "dev" | "cognito" | "oidc";
  authDomain?: string;
  clientId?: string;
  redirectUri?: string;
}

const VERIFIER = "crmbackup.pkce.verifier";
const STATE = "crmbackup.pkce.state";

function random(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(b);
}

function base64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// signInURL sends the admin to the managed login. fresh asks for a new
// sign-in (with two-factor) even when the login page has a session: a
// restore needs a recent one.
export async function signInURL(c: Config, fresh: boolean): Promise<string> {
  const verifier = random(48);
  const state = random(16);
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const q = new URLSearchParams({
    response_type: "code",
    client_id: c.clientId ?? "",
    redirect_uri: c.redirectUri ?? "",
    scope: "openid email profile",
    state,
    code_challenge: await challenge(verifier),
    code_challenge_method: "S256",
  });
  if (fresh) q.set("prompt", "login");
  return `${c.authDomain}/oauth2/authorize?${q}`;
}

// completeSignIn exchanges the code the login page sent back for tokens
// (null when the page was not opened by the login page).
export async function completeSignIn(c: Config): Promise<{ idToken: string; email: string; account: string } | null> {
  const q = new URLSearchParams(location.search);
  const refused = q.get("error");
  if (refused) {
    history.replaceState(null, "", location.pathname + "#/backups");
    sessionStorage.removeItem(VERIFIER);
    sessionStorage.removeItem(STATE);
    throw new Error(q.get("error_description") || refused);
  }
  const code = q.get("code");
  if (!code) return null;
  const verifier = sessionStorage.getItem(VERIFIER);
  const state = sessionStorage.getItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  history.replaceState(null, "", location.pathname + "#/backups");
  if (!verifier || q.get("state") !== state) throw new Error("the sign-in came back without this tab's request: sign in again");
  const resp = await fetch(`${c.authDomain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: c.clientId ?? "", code, redirect_uri: c.redirectUri ?? "", code_verifier: verifier }),
  });
  const data = await resp.json();
  if (!resp.ok) throw new Error(`the sign-in was refused (${data.error ?? resp.status})`);
  const claims = JSON.parse(atob(data.id_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  return { idToken: data.id_token, email: claims.email ?? "", account: claims["custom:account_id"] ?? "" };
}

export async function loadConfig(): Promise<Config> {
  const resp = await fetch("/config.json", { cache: "no-store" });
  if (!resp.ok) return { api: "", signIn: "dev" };
  return (await resp.json()) as Config;
}
