package mailpittest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// EnvBinary names the environment variable that, when set, is the path of
// the mailpit binary the tests run, before PATH and the tools module.
const EnvBinary = "SYNDICATE_MAILPIT"

// toolsModule is where the repository pins mailpit: a module of its own, so
// that the daemon's go.mod does not carry mailpit's dependencies.
const toolsModule = "tools"

const mailpitPkg = "github.com/axllent/mailpit"

// binary finds the mailpit to run: $SYNDICATE_MAILPIT, else mailpit on
// PATH, else the version the tools module pins, built once into the user's
// cache directory and reused by every later run while tools/go.mod and
// tools/go.sum stay the same. It skips the test only when the go command
// itself is missing; a build that fails fails the test, with its output.
func binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv(EnvBinary); bin != "" {
		if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			t.Fatalf("$%s=%s is not an executable file (%v)", EnvBinary, bin, err)
		}
		return bin
	}
	if bin, err := exec.LookPath("mailpit"); err == nil {
		return bin
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("neither mailpit nor the go command is on PATH: install Go (to build the mailpit that %s/go.mod pins) or mailpit, or set $%s, to run the tests with a real SMTP server", toolsModule, EnvBinary)
	}
	tools, err := findTools()
	if err != nil {
		t.Fatalf("mailpit is not on PATH and $%s is unset: %v", EnvBinary, err)
	}
	bin, err := buildCached(goBin, tools)
	if err != nil {
		t.Fatalf("build mailpit from %s: %v", filepath.Join(tools, "go.mod"), err)
	}
	return bin
}

// findTools walks up from the working directory (a test runs in its
// package's directory) to the one holding tools/go.mod.
func findTools() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		tools := filepath.Join(dir, toolsModule)
		if fi, err := os.Stat(filepath.Join(tools, "go.mod")); err == nil && !fi.IsDir() {
			return tools, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no %s/go.mod in %s or any directory above it", toolsModule, wd)
		}
		dir = parent
	}
}

// buildCached returns the cached build for this tools/go.mod and go.sum,
// building it first when there is none. The build holds an exclusive lock
// on the cache directory, so test binaries that start together build once
// and the others wait for it; the binary appears by a rename, whole or not
// at all.
func buildCached(goBin, tools string) (string, error) {
	mod, err := os.ReadFile(filepath.Join(tools, "go.mod"))
	if err != nil {
		return "", err
	}
	sum, err := os.ReadFile(filepath.Join(tools, "go.sum"))
	if err != nil {
		return "", err
	}
	version := requiredVersion(mod, mailpitPkg)
	if version == "" {
		return "", fmt.Errorf("go.mod does not require %s", mailpitPkg)
	}
	h := sha256.New()
	h.Write(mod)
	h.Write([]byte{0})
	h.Write(sum)
	key := hex.EncodeToString(h.Sum(nil))[:12]

	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "syndicate-test-tools", "mailpit-"+version+"-"+key)
	bin := filepath.Join(dir, "mailpit")
	if isExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close() // closing releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if isExecutable(bin) { // built by another test binary while this one waited
		return bin, nil
	}

	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", filepath.Join(tmp, "mailpit"), mailpitPkg)
	cmd.Dir = tools
	// mailpit is pure Go; its build must not depend on a C compiler, or on a
	// go.work of the user's.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.Bytes())
	}
	if err := os.Rename(filepath.Join(tmp, "mailpit"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

// requiredVersion is the version go.mod requires of path, or "".
func requiredVersion(mod []byte, path string) string {
	sc := bufio.NewScanner(bytes.NewReader(mod))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[0] == "require" {
			f = f[1:]
		}
		if len(f) >= 2 && f[0] == path {
			return f[1]
		}
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
