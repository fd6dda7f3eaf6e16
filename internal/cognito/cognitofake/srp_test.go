package cognitofake

import (
	"math/big"
	"testing"
)

func TestGroup(t *testing.T) {
	if groupN.BitLen() != 3072 || !groupN.ProbablyPrime(16) || !new(big.Int).Rsh(groupN, 1).ProbablyPrime(16) {
		t.Fatal("N is not RFC 5054's 3072-bit safe prime")
	}
	if got := groupK.Text(16); got != "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6" {
		t.Fatalf("k = %s", got)
	}
}

func TestPadHex(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "00"}, {1, "01"}, {15, "0f"}, {127, "7f"}, {128, "0080"}, {255, "00ff"}, {256, "0100"}, {0x8000, "008000"}} {
		if got := padHex(big.NewInt(tt.n)); got != tt.want {
			t.Errorf("padHex(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

// TestServerKey checks the server's key against a client's computed by
// hand here: S = (B - k·g^x)^(a+u·x), and that a wrong password differs.
func TestServerKey(t *testing.T) {
	const pool, user, password = "CrmFake01", "user-1", "Correct-Horse-9-battery"
	salt := newSalt()
	v := verifier(salt, pool, user, password)
	srv := newServerKey(v)
	a := big.NewInt(0).SetBytes(randomBytes(32))
	A := new(big.Int).Exp(groupG, a, groupN)
	client := func(pw string) []byte {
		x := passwordX(salt, pool, user, pw)
		u := new(big.Int).SetBytes(hexHash(padHex(A) + padHex(srv.B)))
		base := new(big.Int).Sub(srv.B, new(big.Int).Mul(groupK, new(big.Int).Exp(groupG, x, groupN)))
		base.Mod(base, groupN)
		S := new(big.Int).Exp(base, new(big.Int).Add(a, new(big.Int).Mul(u, x)), groupN)
		prk := hmacSHA256(mustDecodeHex(padHex(u)), mustDecodeHex(padHex(S)))
		return hmacSHA256(prk, append([]byte("Caldera Derived Key"), 1))[:16]
	}
	want := srv.authKey(A, v)
	if got := client(password); string(got) != string(want) {
		t.Fatalf("keys differ: client %x, server %x", got, want)
	}
	if got := client(password + "x"); string(got) == string(want) {
		t.Fatal("a wrong password derives the same key")
	}
	if srv.authKey(new(big.Int).Set(groupN), v) != nil {
		t.Fatal("A ≡ 0 accepted")
	}
}
