package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestEnsureMakesAVerifiableCertificateOnce(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	made, err := Ensure(dir, Hosts("mosquitto, localhost,127.0.0.1,"), now)
	if err != nil || !made {
		t.Fatalf("made %v, err %v", made, err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.crt holds no certificate")
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"mosquitto", "localhost", "127.0.0.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "evil.example", Roots: roots, CurrentTime: now}); err == nil {
		t.Error("verified for a name it was not made for")
	}
	if st, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v (%v)", st.Mode(), err)
	}

	// A second start keeps it (devices trust this CA now).
	before, _ := os.ReadFile(filepath.Join(dir, CertFile))
	if made, err := Ensure(dir, []string{"other"}, now); err != nil || made {
		t.Fatalf("second run: made %v, err %v", made, err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, CertFile))
	if string(before) != string(after) {
		t.Fatal("the certificate changed")
	}
}

func TestEnsureRefusesAHalfPair(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CertFile), []byte("operator's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(dir, []string{"mosquitto"}, time.Now()); err == nil {
		t.Fatal("a certificate without its key was accepted")
	}
	if _, err := Ensure(t.TempDir(), nil, time.Now()); err == nil {
		t.Fatal("no host names accepted")
	}
}
