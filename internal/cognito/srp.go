package cognito

// Cognito's Secure Remote Password (SRP-6a) for the USER_SRP_AUTH flow, the
// client's side: the password never leaves the machine; Cognito sends a
// salt, its public value B and a secret block, and the client proves it
// knows the password by signing the secret block with the shared key.
//
// Cognito's SRP differs from RFC 5054 in small ways that decide whether the
// signature matches, so this follows AWS's own client exactly:
//   - amazon-cognito-identity-js, src/AuthenticationHelper.js (Amplify),
//     https://github.com/aws-amplify/amplify-js/tree/main/packages/amazon-cognito-identity-js
//   - AWS's developer guide, "User pool authentication flow",
//     https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-authentication-flow.html
//
// In short, with H = SHA-256 and pad(n) = n's big-endian bytes with a 0x00
// in front when the top bit is set (Java's BigInteger.toByteArray):
//
//	N, g  = the 3072-bit group of RFC 5054, appendix A, and g = 2
//	k     = H(pad(N) || pad(g))                       (g is not padded to N's length)
//	A     = g^a mod N                                 (a: 128 random bytes)
//	u     = H(pad(A) || pad(B))
//	x     = H(pad(salt) || H(poolName || userID || ":" || password))
//	S     = (B - k·g^x)^(a + u·x) mod N
//	key   = HKDF-SHA256(ikm = pad(S), salt = pad(u), info = "Caldera Derived Key", 16 bytes)
//	claim = base64(HMAC-SHA256(key, poolName || userID || secretBlock || timestamp))
//
// where poolName is the pool id after its "_" ("AbCdEf123" of
// "eu-west-1_AbCdEf123"), userID is the challenge's USER_ID_FOR_SRP,
// secretBlock the base64-decoded SECRET_BLOCK, and timestamp is UTC in
// Java's "EEE MMM d HH:mm:ss z yyyy" ("Tue Feb 1 03:04:05 UTC 2000").

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// srpGroupN is the 3072-bit MODP prime of RFC 5054, appendix A (the same
// as RFC 3526's group 15), in hex.
const srpGroupN = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1" +
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245" +
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D" +
	"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
	"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9" +
	"DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
	"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64" +
	"ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B" +
	"F12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
	"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31" +
	"43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

// srpTimeLayout is Cognito's TIMESTAMP: the day of the month without a
// leading zero, the hour, minute and second with one.
const srpTimeLayout = "Mon Jan 2 15:04:05 UTC 2006"

// srpInfo is the HKDF info of Cognito's key derivation.
const srpInfo = "Caldera Derived Key"

var (
	srpN = func() *big.Int {
		n, ok := new(big.Int).SetString(srpGroupN, 16)
		if !ok {
			panic("cognito: bad SRP group")
		}
		return n
	}()
	srpG = big.NewInt(2)
	srpK = new(big.Int).SetBytes(sha(pad(srpN), pad(srpG)))
)

// srpClient is one sign-in's ephemeral key pair: a is secret, A is sent as
// SRP_A.
type srpClient struct {
	a, A *big.Int
}

// newSRPClient draws a from random (crypto/rand.Reader outside tests).
func newSRPClient(random io.Reader) (*srpClient, error) {
	for range 8 {
		buf := make([]byte, 128)
		if _, err := io.ReadFull(random, buf); err != nil {
			return nil, fmt.Errorf("SRP: random a: %w", err)
		}
		a := new(big.Int).SetBytes(buf)
		a.Mod(a, srpN)
		A := new(big.Int).Exp(srpG, a, srpN)
		// A ≡ 0 would let anyone pass; Amplify refuses it too.
		if a.Sign() != 0 && A.Sign() != 0 {
			return &srpClient{a: a, A: A}, nil
		}
	}
	return nil, errors.New("SRP: could not draw a usable a")
}

// publicHex is SRP_A: A in hex, as Amplify sends it (no padding).
func (c *srpClient) publicHex() string { return c.A.Text(16) }

// srpChallenge is what Cognito's PASSWORD_VERIFIER challenge hands over.
type srpChallenge struct {
	PoolName    string // the pool id after "_"
	UserID      string // USER_ID_FOR_SRP
	SaltHex     string // SALT
	BHex        string // SRP_B
	SecretBlock string // SECRET_BLOCK, base64
	Timestamp   string // the TIMESTAMP sent with the claim
}

// key derives the 16-byte password authentication key.
func (c *srpClient) key(ch srpChallenge, password string) ([]byte, error) {
	B, ok := new(big.Int).SetString(ch.BHex, 16)
	if !ok || B.Sign() <= 0 {
		return nil, errors.New("SRP: Cognito sent an unreadable SRP_B")
	}
	if new(big.Int).Mod(B, srpN).Sign() == 0 {
		return nil, errors.New("SRP: Cognito sent SRP_B ≡ 0 (mod N)")
	}
	salt, ok := new(big.Int).SetString(ch.SaltHex, 16)
	if !ok {
		return nil, errors.New("SRP: Cognito sent an unreadable SALT")
	}
	u := new(big.Int).SetBytes(sha(pad(c.A), pad(B)))
	if u.Sign() == 0 {
		return nil, errors.New("SRP: u is 0")
	}
	x := srpX(salt, ch.PoolName, ch.UserID, password)
	// base = (B - k·g^x) mod N, brought into [0, N) before the power.
	base := new(big.Int).Exp(srpG, x, srpN)
	base.Mul(base, srpK)
	base.Sub(B, base)
	base.Mod(base, srpN)
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, c.a)
	S := new(big.Int).Exp(base, exp, srpN)
	return hkdf.Key(sha256.New, pad(S), pad(u), srpInfo, 16)
}

// claim returns PASSWORD_CLAIM_SIGNATURE.
func (c *srpClient) claim(ch srpChallenge, password string) (string, error) {
	key, err := c.key(ch, password)
	if err != nil {
		return "", err
	}
	block, err := base64.StdEncoding.DecodeString(ch.SecretBlock)
	if err != nil {
		return "", errors.New("SRP: Cognito sent an unreadable SECRET_BLOCK")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ch.PoolName))
	mac.Write([]byte(ch.UserID))
	mac.Write(block)
	mac.Write([]byte(ch.Timestamp))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// srpX is x = H(pad(salt) || H(poolName || userID || ":" || password)).
func srpX(salt *big.Int, poolName, userID, password string) *big.Int {
	inner := sha([]byte(poolName + userID + ":" + password))
	return new(big.Int).SetBytes(sha(pad(salt), inner))
}

// srpTimestamp formats t as Cognito's TIMESTAMP.
func srpTimestamp(t time.Time) string { return t.UTC().Format(srpTimeLayout) }

// pad is n's big-endian bytes, with a leading 0x00 when the top bit is set
// so that the value reads as positive (Amplify's padHex, Java's
// BigInteger.toByteArray); zero is one 0x00 byte.
func pad(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

// sha is SHA-256 over the concatenation of parts.
func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
