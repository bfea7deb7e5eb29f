package voice

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/somsgo/soms/internal/voice"
)

// Store keeps WAV files under content-addressed names, so one text spoken
// with one speaker and tone is synthesised once: an index in memory, the files
// on disk (found again after a restart).
type Store struct {
	dir string

	mu    sync.Mutex
	index map[string]float64 // file name → duration in seconds
}

// fileName matches the names Store writes; nothing else is ever served.
var fileName = regexp.MustCompile(`^[0-9a-f]{32}\.wav$`)

// NewStore uses dir, creating it.
func NewStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("audio directory: %w", err)
	}
	return &Store{dir: dir, index: map[string]float64{}}, nil
}

// Key is the file name of text spoken by speaker in tone.
func Key(text string, speaker int, tone string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "v1\x00%d\x00%s\x00%s", speaker, tone, text))
	return hex.EncodeToString(h[:16]) + ".wav"
}

// Lookup returns the duration of a stored file.
func (s *Store) Lookup(name string) (float64, bool) {
	s.mu.Lock()
	d, ok := s.index[name]
	s.mu.Unlock()
	if ok {
		return d, true
	}
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil {
		return 0, false
	}
	info, err := voice.ParseWAV(b)
	if err != nil {
		return 0, false // a damaged file is synthesised again and replaced
	}
	d = info.Duration().Seconds()
	s.mu.Lock()
	s.index[name] = d
	s.mu.Unlock()
	return d, true
}

// Put stores a WAV file atomically and returns its duration.
func (s *Store) Put(name string, wav []byte) (float64, error) {
	info, err := voice.ParseWAV(wav)
	if err != nil {
		return 0, fmt.Errorf("engine answered no valid WAV: %w", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("store audio: %w", err)
	}
	_, werr := tmp.Write(wav)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("store audio: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("store audio: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, name)); err != nil {
		_ = os.Remove(tmp.Name())
		return 0, fmt.Errorf("store audio: %w", err)
	}
	d := info.Duration().Seconds()
	s.mu.Lock()
	s.index[name] = d
	s.mu.Unlock()
	return d, nil
}

// Open opens a stored file by name; names that Store cannot have written are
// fs.ErrNotExist, which keeps paths like ../x out.
func (s *Store) Open(name string) (*os.File, error) {
	if !fileName.MatchString(name) {
		return nil, fs.ErrNotExist
	}
	return os.Open(filepath.Join(s.dir, name))
}

// Dir is the directory the files live in.
func (s *Store) Dir() string { return s.dir }
