package cognito

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"testing"
	"time"
)

// srpVector is a known answer computed by another implementation of
// Cognito's SRP (testdata/srp-vector.json says which).
type srpVector struct {
	PoolIDAbbr        string `json:"poolIdAbbr"`
	Username          string `json:"username"`
	Password          string `json:"password"`
	PasswordHash      string `json:"passwordHash"`
	Timestamp         string `json:"timestamp"`
	SmallA            string `json:"smallA"`
	LargeA            string `json:"largeA"`
	LargeB            string `json:"largeB"`
	Salt              string `json:"salt"`
	Secret            string `json:"secret"`
	PasswordSignature string `json:"passwordSignature"`
}

func loadVector(t *testing.T) srpVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/srp-vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v srpVector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func hexInt(t *testing.T, h string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(h, 16)
	if !ok {
		t.Fatalf("bad hex %.20q", h)
	}
	return n
}

func TestSRPGroup(t *testing.T) {
	if srpN.BitLen() != 3072 || !srpN.ProbablyPrime(16) || !new(big.Int).Rsh(srpN, 1).ProbablyPrime(16) {
		t.Fatal("N is not RFC 5054's 3072-bit safe prime")
	}
	// k = H(pad(N) || pad(g)), the value Amplify and the Python clients use.
	if got := srpK.Text(16); got != "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6" {
		t.Fatalf("k = %s", got)
	}
}

func TestSRPKnownAnswer(t *testing.T) {
	v := loadVector(t)
	if got := hex.EncodeToString(sha([]byte(v.PoolIDAbbr + v.Username + ":" + v.Password))); got != v.PasswordHash {
		t.Fatalf("H(pool||user||:||password) = %s, want %s", got, v.PasswordHash)
	}
	a := hexInt(t, v.SmallA)
	c := &srpClient{a: a, A: new(big.Int).Exp(srpG, a, srpN)}
	if c.publicHex() != v.LargeA {
		t.Fatalf("A = %.32s…, want %.32s…", c.publicHex(), v.LargeA)
	}
	base := srpChallenge{PoolName: v.PoolIDAbbr, UserID: v.Username, SaltHex: v.Salt, BHex: v.LargeB,
		SecretBlock: v.Secret, Timestamp: v.Timestamp}
	flipped := []byte(v.Password)
	flipped[0] ^= 1
	tests := []struct {
		name     string
		change   func(*srpChallenge)
		password string
		match    bool
	}{
		{"the vector", func(*srpChallenge) {}, v.Password, true},
		{"one bit of the password", func(*srpChallenge) {}, string(flipped), false},
		{"another user id", func(c *srpChallenge) { c.UserID += "x" }, v.Password, false},
		{"the day zero-padded", func(c *srpChallenge) { c.Timestamp = "Tue Feb 01 03:04:05 UTC 2000" }, v.Password, false},
		{"the salt's leading zero kept", func(c *srpChallenge) { c.SaltHex = "00" + c.SaltHex }, v.Password, true}, // Cognito's salt is a number
		{"another pool", func(c *srpChallenge) { c.PoolName = "bBpjKlyj7" }, v.Password, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := base
			tt.change(&ch)
			got, err := c.claim(ch, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if (got == v.PasswordSignature) != tt.match {
				t.Fatalf("signature %s, vector %s, want match=%v", got, v.PasswordSignature, tt.match)
			}
		})
	}
}

// TestSRPAgreesWithServer runs the server's side step by step with fixed
// values and checks both sides derive the same key: the textbook SRP-6a
// identity (B - k·g^x)^(a+u·x) = (A·v^u)^b.
func TestSRPAgreesWithServer(t *testing.T) {
	const pool, user, password = "AbCdEf123", "0b9e4c1a-7d2f-4e8a-9c3b-5f6a7b8c9d0e", "Correct-Horse-9-battery"
	a := hexInt(t, "1f2e3d4c5b6a79880123456789abcdef")
	b := hexInt(t, "fedcba98765432100f1e2d3c4b5a6978")
	saltHex := "9a8b7c6d5e4f30211203f4e5d6c7b8a9" // top bit set: pad(salt) needs its 0x00

	v := new(big.Int).Exp(srpG, srpX(hexInt(t, saltHex), pool, user, password), srpN)
	B := new(big.Int).Add(new(big.Int).Mul(srpK, v), new(big.Int).Exp(srpG, b, srpN))
	B.Mod(B, srpN)
	c := &srpClient{a: a, A: new(big.Int).Exp(srpG, a, srpN)}
	u := new(big.Int).SetBytes(sha(pad(c.A), pad(B)))
	S := new(big.Int).Exp(new(big.Int).Mod(new(big.Int).Mul(c.A, new(big.Int).Exp(v, u, srpN)), srpN), b, srpN)
	serverKey := hkdfByHand(pad(S), pad(u))

	flipped := []byte(password)
	flipped[len(flipped)-1] ^= 1
	for _, tt := range []struct {
		name     string
		password string
		agree    bool
	}{
		{"the password", password, true},
		{"one bit off", string(flipped), false},
		{"empty", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, err := c.key(srpChallenge{PoolName: pool, UserID: user, SaltHex: saltHex, BHex: B.Text(16)}, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(key, serverKey) != tt.agree {
				t.Fatalf("client key %x, server key %x, want agree=%v", key, serverKey, tt.agree)
			}
		})
	}
}

// hkdfByHand is RFC 5869 for one block of output, without crypto/hkdf.
func hkdfByHand(ikm, salt []byte) []byte {
	prk := hmacSum(salt, ikm)
	return hmacSum(prk, append([]byte(srpInfo), 1))[:16]
}

func hmacSum(key, msg []byte) []byte {
	// HMAC by its definition (RFC 2104), to not lean on crypto/hmac twice.
	const block = 64
	if len(key) > block {
		key = sha(key)
	}
	k := make([]byte, block)
	copy(k, key)
	ipad, opad := make([]byte, block), make([]byte, block)
	for i := range k {
		ipad[i], opad[i] = k[i]^0x36, k[i]^0x5c
	}
	return sha(opad, sha(ipad, msg))
}

func TestSRPRefusesBadServerValues(t *testing.T) {
	c := &srpClient{a: big.NewInt(12345), A: new(big.Int).Exp(srpG, big.NewInt(12345), srpN)}
	block := base64.StdEncoding.EncodeToString([]byte("block"))
	for _, tt := range []struct{ name, b, salt, block string }{
		{"B is 0", "0", "ab", block},
		{"B is N", srpN.Text(16), "ab", block},
		{"B is not hex", "xyz", "ab", block},
		{"salt is not hex", "1234", "xyz", block},
		{"secret block is not base64", "1234", "ab", "%%%"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.claim(srpChallenge{PoolName: "p", UserID: "u", SaltHex: tt.salt, BHex: tt.b, SecretBlock: tt.block}, "pw"); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestPad(t *testing.T) {
	// Cases of Amplify's own padHex test (Java's BigInteger.toByteArray).
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "00"}, {1, "01"}, {127, "7f"}, {128, "0080"}, {255, "00ff"}, {256, "0100"}, {0x8000, "008000"}} {
		if got := hex.EncodeToString(pad(big.NewInt(tt.n))); got != tt.want {
			t.Errorf("pad(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestSRPTimestamp(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		rome = time.FixedZone("CET", 3600)
	}
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2000, 2, 1, 3, 4, 5, 0, time.UTC), "Tue Feb 1 03:04:05 UTC 2000"},
		{time.Date(2026, 11, 22, 23, 59, 9, 999, time.UTC), "Sun Nov 22 23:59:09 UTC 2026"},
		{time.Date(2026, 3, 1, 0, 30, 0, 0, rome), "Sat Feb 28 23:30:00 UTC 2026"},
	} {
		if got := srpTimestamp(tt.t); got != tt.want {
			t.Errorf("srpTimestamp(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
