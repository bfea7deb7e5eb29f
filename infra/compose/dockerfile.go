package compose

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// Dockerfile rule names.
const (
	RuleParse       = "dockerfile-parse"
	RuleFromPinned  = "from-pinned"
	RuleMultiStage  = "multi-stage"
	RuleNonRoot     = "non-root"
	RuleRemoteAdd   = "remote-add"
	RuleCopySource  = "copy-source"
	RuleDockerignor = "dockerignore"
)

// CheckDockerfile parses a Dockerfile with BuildKit's own parser and checks:
// every base image pinned (a version tag or digest, never latest; ARG
// defaults resolved), more than one stage, a non-root USER in the final
// stage, no ADD of URLs, and every COPY source present in the build context
// and not excluded by .dockerignore.
func CheckDockerfile(data []byte, name, contextDir string) []Problem {
	bad := func(rule, format string, args ...any) Problem {
		return Problem{Service: name, Rule: rule, Detail: fmt.Sprintf(format, args...)}
	}
	ast, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return []Problem{bad(RuleParse, "%v", err)}
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return []Problem{bad(RuleParse, "%v", err)}
	}
	args := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				args[kv.Key] = *kv.Value
			}
		}
	}
	lex := shell.NewLex(parser.DefaultEscapeToken)
	expand := func(s string) string {
		r, err := lex.ProcessWordWithMatches(s, shell.EnvsFromSlice(envList(args)))
		if err != nil {
			return s
		}
		return r.Result
	}
	ignore := readDockerignore(contextDir)

	var out []Problem
	if len(stages) < 2 {
		out = append(out, bad(RuleMultiStage, "%d stage(s); build in one stage, ship a small final one", len(stages)))
	}
	named := map[string]bool{}
	for i, st := range stages {
		base := expand(st.BaseName)
		if problem := basePinned(base, named); problem != "" {
			out = append(out, bad(RuleFromPinned, "stage %d FROM %s: %s", i, st.BaseName, problem))
		}
		if st.Name != "" {
			named[strings.ToLower(st.Name)] = true
		}
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.AddCommand:
				for _, src := range c.SourcePaths {
					if isRemote(src) {
						out = append(out, bad(RuleRemoteAdd, "ADD %s fetches at build time unverified; download in a RUN step with a checksum, or COPY", src))
					}
				}
			case *instructions.CopyCommand:
				if c.From != "" {
					continue
				}
				for _, src := range c.SourcePaths {
					out = append(out, copySource(bad, contextDir, ignore, src)...)
				}
			}
		}
	}
	if len(stages) > 0 {
		final := stages[len(stages)-1]
		user := ""
		for _, cmd := range final.Commands {
			if u, ok := cmd.(*instructions.UserCommand); ok {
				user = expand(u.User)
			}
		}
		name, _, _ := strings.Cut(user, ":")
		switch name {
		case "":
			out = append(out, bad(RuleNonRoot, "final stage sets no USER, so it runs as root"))
		case "root", "0":
			out = append(out, bad(RuleNonRoot, "final stage runs as %s", user))
		}
	}
	return out
}

// basePinned explains why a FROM reference is not pinned ("" if it is).
func basePinned(base string, stages map[string]bool) string {
	if base == "scratch" || stages[strings.ToLower(base)] {
		return ""
	}
	if strings.Contains(base, "$") {
		return "uses an ARG without a default"
	}
	_, tag, digest := imageRef(base)
	switch {
	case digest != "":
		return ""
	case tag == "":
		return "no tag (floats on latest)"
	case tag == "latest" || strings.HasSuffix(tag, "-latest"):
		return "floating latest tag"
	case !strings.ContainsAny(tag, "0123456789"):
		return fmt.Sprintf("tag %q names no version", tag)
	}
	return ""
}

func isRemote(src string) bool {
	for _, p := range []string{"http://", "https://", "git@", "git://"} {
		if strings.HasPrefix(src, p) {
			return true
		}
	}
	return false
}

func copySource(bad func(string, string, ...any) Problem, contextDir string, ignore *patternmatcher.PatternMatcher, src string) []Problem {
	if strings.ContainsAny(src, "*?[$") {
		return nil // a pattern or variable: nothing to stat
	}
	rel := filepath.Clean(strings.TrimPrefix(src, "/"))
	if _, err := os.Stat(filepath.Join(contextDir, rel)); err != nil {
		return []Problem{bad(RuleCopySource, "COPY %s: not in the build context (%v)", src, err)}
	}
	if rel != "." && ignore != nil {
		if excluded, _ := ignore.MatchesOrParentMatches(filepath.ToSlash(rel)); excluded {
			return []Problem{bad(RuleCopySource, "COPY %s: excluded by .dockerignore", src)}
		}
	}
	return nil
}

// readDockerignore loads contextDir/.dockerignore (nil when absent).
func readDockerignore(contextDir string) *patternmatcher.PatternMatcher {
	patterns, err := DockerignorePatterns(contextDir)
	if err != nil || len(patterns) == 0 {
		return nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil
	}
	return pm
}

// DockerignorePatterns reads contextDir/.dockerignore.
func DockerignorePatterns(contextDir string) ([]string, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ignorefile.ReadAll(f)
}

// Excluded reports whether .dockerignore patterns leave rel (a slash path
// relative to the build context) out of the context.
func Excluded(patterns []string, rel string) (bool, error) {
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return false, err
	}
	return pm.MatchesOrParentMatches(rel)
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}
