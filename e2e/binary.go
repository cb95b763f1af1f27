package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds ./cmd/sekisho once per test binary and returns its path.
// It is built without -race on purpose: the race detector would slow the
// child without checking anything the test process does.
func Binary() (string, error) {
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		dir, err := os.MkdirTemp("", "sekisho-e2e-bin-")
		if err != nil {
			buildErr = fmt.Errorf("build sekisho: %w", err)
			return
		}
		buildPath = filepath.Join(dir, "sekisho")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/sekisho")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build sekisho: %w\n%s", err, out)
		}
	})
	return buildPath, buildErr
}
