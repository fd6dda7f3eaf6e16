package cognitofake

// The server's side of Cognito's SRP-6a. It is written apart from the
// client's (package cognito) on purpose, the way Amplify writes it (hex
// strings padded by padHex, HKDF spelled out), so that a mistake in one is
// not repeated in the other and a wrong client fails against the fake.
//
//	v = g^x mod N,  x = H(padHex(salt) || H(poolName || username || ":" || password))
//	B = (k·v + g^b) mod N,  k = H(padHex(N) || padHex(g))
//	u = H(padHex(A) || padHex(B))
//	S = (A · v^u)^b mod N
//	key = first 16 bytes of HMAC(HMAC(padHex(u), padHex(S)), "Caldera Derived Key" || 0x01)
//	signature = HMAC(key, poolName || username || secretBlock || timestamp)
//
// References: amazon-cognito-identity-js src/AuthenticationHelper.js;
// RFC 5054 (SRP for TLS, the 3072-bit group of appendix A); RFC 5869 (HKDF).

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
)

// groupN: RFC 5054, appendix A, the 3072-bit group.
var groupN = mustHex(strings.Join([]string{
	"FFFFFFFF", "FFFFFFFF", "C90FDAA2", "2168C234", "C4C6628B", "80DC1CD1", "29024E08", "8A67CC74",
	"020BBEA6", "3B139B22", "514A0879", "8E3404DD", "EF9519B3", "CD3A431B", "302B0A6D", "F25F1437",
	"4FE1356D", "6D51C245", "E485B576", "625E7EC6", "F44C42E9", "A637ED6B", "0BFF5CB6", "F406B7ED",
	"EE386BFB", "5A899FA5", "AE9F2411", "7C4B1FE6", "49286651", "ECE45B3D", "C2007CB8", "A163BF05",
	"98DA4836", "1C55D39A", "69163FA8", "FD24CF5F", "83655D23", "DCA3AD96", "1C62F356", "208552BB",
	"9ED52907", "7096966D", "670C354E", "4ABC9804", "F1746C08", "CA18217C", "32905E46", "2E36CE3B",
	"E39E772C", "180E8603", "9B2783A2", "EC07A28F", "B5C55DF0", "6F4C52C9", "DE2BCBF6", "95581718",
	"3995497C", "EA956AE5", "15D22618", "98FA0510", "15728E5A", "8AAAC42D", "AD33170D", "04507A33",
	"A85521AB", "DF1CBA64", "ECFB8504", "58DBEF0A", "8AEA7157", "5D060C7D", "B3970F85", "A6E1E4C7",
	"ABF5AE8C", "DB0933D7", "1E8C94E0", "4A25619D", "CEE3D226", "1AD2EE6B", "F12FFA06", "D98A0864",
	"D8760273", "3EC86A64", "521F2B18", "177B200C", "BBE11757", "7A615D6C", "770988C0", "BAD946E2",
	"08E24FA0", "74E5AB31", "43DB5BFC", "E0FD108E", "4B82D120", "A93AD2CA", "FFFFFFFF", "FFFFFFFF",
}, ""))

var (
	groupG = big.NewInt(2)
	groupK = new(big.Int).SetBytes(hexHash(padHex(groupN) + padHex(groupG)))
)

// verifier is v for a password, with the salt in hex as Cognito sends it.
func verifier(saltHex, poolName, username, password string) *big.Int {
	return new(big.Int).Exp(groupG, passwordX(saltHex, poolName, username, password), groupN)
}

func passwordX(saltHex, poolName, username, password string) *big.Int {
	salt := mustHex(saltHex)
	inner := sha256.Sum256([]byte(poolName + username + ":" + password))
	return new(big.Int).SetBytes(hexHash(padHex(salt) + hex.EncodeToString(inner[:])))
}

// newSalt is 16 random bytes in hex, with the top bit set so that every
// sign-in exercises the 0x00 padding a client must add.
func newSalt() string {
	b := randomBytes(16)
	b[0] |= 0x80
	return hex.EncodeToString(b)
}

// serverKey is the server's half of one exchange: b secret, B public.
type serverKey struct {
	b, B *big.Int
}

func newServerKey(v *big.Int) serverKey {
	b := new(big.Int).SetBytes(randomBytes(128))
	B := new(big.Int).Mul(groupK, v)
	B.Add(B, new(big.Int).Exp(groupG, b, groupN))
	B.Mod(B, groupN)
	return serverKey{b: b, B: B}
}

// authKey is the 16-byte key both sides derive; nil when A is unusable.
func (s serverKey) authKey(A, v *big.Int) []byte {
	if new(big.Int).Mod(A, groupN).Sign() == 0 {
		return nil
	}
	u := new(big.Int).SetBytes(hexHash(padHex(A) + padHex(s.B)))
	if u.Sign() == 0 {
		return nil
	}
	S := new(big.Int).Exp(v, u, groupN)
	S.Mul(S, A)
	S.Mod(S, groupN)
	S.Exp(S, s.b, groupN)
	prk := hmacSHA256(mustDecodeHex(padHex(u)), mustDecodeHex(padHex(S)))
	return hmacSHA256(prk, append([]byte("Caldera Derived Key"), 1))[:16]
}

// claimSignature is the PASSWORD_CLAIM_SIGNATURE the client must send.
func claimSignature(key []byte, poolName, username string, secretBlock []byte, timestamp string) []byte {
	msg := []byte(poolName + username)
	msg = append(msg, secretBlock...)
	msg = append(msg, timestamp...)
	return hmacSHA256(key, msg)
}

// padHex is Amplify's: even length, and "00" in front when the first
// digit would read as negative.
func padHex(n *big.Int) string {
	h := n.Text(16)
	if len(h)%2 == 1 {
		h = "0" + h
	}
	if strings.ContainsRune("89abcdef", rune(h[0])) {
		h = "00" + h
	}
	return h
}

func hexHash(h string) []byte {
	sum := sha256.Sum256(mustDecodeHex(h))
	return sum[:]
}

func hmacSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

func mustHex(h string) *big.Int {
	n, ok := new(big.Int).SetString(h, 16)
	if !ok {
		panic("cognitofake: bad hex " + h)
	}
	return n
}

func mustDecodeHex(h string) []byte {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}
