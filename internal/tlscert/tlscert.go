// Package tlscert gives a server a TLS certificate when its operator has not:
// a private CA made for it and a server certificate that CA signs, written
// once into a directory the server reads (the compose broker's mqtt_tls
// volume, through `soms tls-cert`). Clients trust ca.crt; the CA's key is
// never written, so nothing else can be signed with it.
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files in the directory.
const (
	CAFile   = "ca.crt"     // what clients trust
	CertFile = "server.crt" // the server's certificate (chain: itself)
	KeyFile  = "server.key" // its private key
)

// Validity of a generated certificate.
const Validity = 10 * 365 * 24 * time.Hour

// Ensure writes CAFile, CertFile and KeyFile into dir for hosts (DNS names or
// IP addresses) unless CertFile and KeyFile are there already — an
// operator's certificate, or one an earlier start made. It reports whether it
// made one.
func Ensure(dir string, hosts []string, now time.Time) (bool, error) {
	_, certErr := os.Stat(filepath.Join(dir, CertFile))
	_, keyErr := os.Stat(filepath.Join(dir, KeyFile))
	switch {
	case certErr == nil && keyErr == nil:
		return false, nil
	case certErr == nil || keyErr == nil:
		return false, fmt.Errorf("%s: %s and %s must both be there, or neither", dir, CertFile, KeyFile)
	}
	if len(hosts) == 0 {
		return false, errors.New("no host names for the certificate")
	}
	ca, caKey, err := newCA(hosts[0], now)
	if err != nil {
		return false, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: hosts[0], Organization: []string{"SOMS"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(Validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return false, fmt.Errorf("signing the server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return false, err
	}
	// The key first and the certificate last: a crash in between leaves no
	// certificate, so the next start makes a new pair.
	for _, f := range []struct {
		name string
		typ  string
		der  []byte
		mode os.FileMode
	}{
		{CAFile, "CERTIFICATE", ca.Raw, 0o644},
		{KeyFile, "PRIVATE KEY", keyDER, 0o600},
		{CertFile, "CERTIFICATE", der, 0o644},
	} {
		if err := writePEM(filepath.Join(dir, f.name), f.typ, f.der, f.mode); err != nil {
			return false, err
		}
	}
	return true, nil
}

func newCA(host string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "SOMS CA for " + host, Organization: []string{"SOMS"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("making the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// Hosts splits a comma-separated host list, dropping empty items.
func Hosts(s string) []string {
	var out []string
	for _, h := range strings.Split(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}
