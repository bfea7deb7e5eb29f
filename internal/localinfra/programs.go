package localinfra

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

// MissingDependencyError names a program the native stack needs and how to get it.
type MissingDependencyError struct {
	Program string
	Package string
}

func (e *MissingDependencyError) Error() string {
	return fmt.Sprintf("%s not found: install the Debian package %q (`make deps` does it: apt-get install -y %s)",
		e.Program, e.Package, e.Package)
}

// findProgram looks on PATH, then in the extra directories Debian uses.
func findProgram(name, pkg string, extra ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range extra {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &MissingDependencyError{Program: name, Package: pkg}
}

// postgresBinDirs lists Debian's versioned PostgreSQL bin directories, newest
// first, because initdb and postgres are not on PATH there.
func postgresBinDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	return dirs
}

// programs are the external binaries the native stack runs.
type programs struct {
	mosquitto, mosquittoPasswd string
	initdb, postgres           string
}

// CheckPrograms reports the first program of the native stack that is missing
// (a *MissingDependencyError), or nil.
func CheckPrograms() error {
	_, err := findPrograms()
	return err
}

func findPrograms() (programs, error) {
	var p programs
	var err error
	if p.mosquitto, err = findProgram("mosquitto", "mosquitto", "/usr/sbin", "/usr/local/sbin"); err != nil {
		return p, err
	}
	if p.mosquittoPasswd, err = findProgram("mosquitto_passwd", "mosquitto", "/usr/bin", "/usr/sbin"); err != nil {
		return p, err
	}
	pgDirs := postgresBinDirs()
	if p.initdb, err = findProgram("initdb", "postgresql", pgDirs...); err != nil {
		return p, err
	}
	// postgres must come from the same installation as initdb.
	sameDir := filepath.Join(filepath.Dir(resolve(p.initdb)), "postgres")
	if _, statErr := os.Stat(sameDir); statErr == nil {
		p.postgres = sameDir
	} else if p.postgres, err = findProgram("postgres", "postgresql", pgDirs...); err != nil {
		return p, err
	}
	return p, nil
}

func resolve(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}

// postgresUser returns the credential to run PostgreSQL with: nil when we are
// not root, else the "postgres" system user (PostgreSQL refuses to run as root).
func postgresUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged user and there is no 'postgres' user (install the postgresql package): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// PostgresTool returns a program of the PostgreSQL installation the private
// server runs from (pgbench, psql), which Debian keeps off PATH.
func PostgresTool(name string) (string, error) {
	initdb, err := findProgram("initdb", "postgresql", postgresBinDirs()...)
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(resolve(initdb)), name)
	if _, err := os.Stat(p); err != nil {
		return "", &MissingDependencyError{Program: name, Package: "postgresql"}
	}
	return p, nil
}
