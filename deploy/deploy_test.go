// Package deploy_test keeps the deployment files honest: the configuration
// that the Kubernetes ConfigMap and the Compose file carry must be one the
// daemon accepts, with exactly the secrets their environment provides, so
// that a manifest drifting from the configuration schema fails here rather
// than at a rollout. (The manifests themselves are checked against the
// Kubernetes API types by tools/k8scheck.)
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/syndicate-daemon/syndicate/channels/bluesky"
	"github.com/syndicate-daemon/syndicate/channels/mastodon"
	"github.com/syndicate-daemon/syndicate/channels/telegram"
	"github.com/syndicate-daemon/syndicate/config"
)

// secretValue stands for every secret: long enough to raise no warning.
const secretValue = "a-secret-value-of-some-length"

// documents decodes every YAML document of a file.
func documents(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
}

// field walks m by keys, failing the test when a step is missing or of
// another type than T.
func field[T any](t *testing.T, m any, keys ...string) T {
	t.Helper()
	cur := m
	for i, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: not a mapping", strings.Join(keys[:i], "."))
		}
		if cur, ok = mm[k]; !ok {
			t.Fatalf("%s: missing", strings.Join(keys[:i+1], "."))
		}
	}
	v, ok := cur.(T)
	if !ok {
		var zero T
		t.Fatalf("%s: a %T, want a %T", strings.Join(keys, "."), cur, zero)
	}
	return v
}

// kind returns the one object of that kind and name among docs.
func kind(t *testing.T, docs []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, d := range docs {
		if d["kind"] == kind && (name == "" || field[string](t, d, "metadata", "name") == name) {
			return d
		}
	}
	t.Fatalf("no %s %q", kind, name)
	return nil
}

// k8sDeployment is what the test reads of the Deployment's container.
type k8sDeployment struct {
	configMap   string // the ConfigMap mounted where --config points
	configKey   string // the key of the file --config names
	env         []string
	secretKeys  map[string]string // env name → key in the Secret
	secretName  string
	listenPorts map[int]bool
}

func readDeployment(t *testing.T) k8sDeployment {
	t.Helper()
	dep := kind(t, documents(t, "k8s/deployment.yaml"), "Deployment", "syndicate")
	containers := field[[]any](t, dep, "spec", "template", "spec", "containers")
	if len(containers) != 1 {
		t.Fatalf("%d containers, want 1", len(containers))
	}
	c := containers[0]
	var d k8sDeployment
	args := field[[]any](t, c, "args")
	i := slices.Index(args, any("--config"))
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("args %v: no --config FILE", args)
	}
	configPath := args[i+1].(string)
	mounts := map[string]string{} // volume → mount path
	for _, m := range field[[]any](t, c, "volumeMounts") {
		mounts[field[string](t, m, "name")] = field[string](t, m, "mountPath")
	}
	for _, v := range field[[]any](t, dep, "spec", "template", "spec", "volumes") {
		cm, ok := v.(map[string]any)["configMap"]
		if !ok {
			continue
		}
		dir := mounts[field[string](t, v, "name")]
		if rel, ok := strings.CutPrefix(configPath, dir+"/"); ok && dir != "" {
			d.configMap, d.configKey = field[string](t, cm, "name"), rel
		}
	}
	if d.configMap == "" {
		t.Fatalf("--config %s is not in a mounted ConfigMap", configPath)
	}
	d.secretKeys = map[string]string{}
	for _, e := range field[[]any](t, c, "env") {
		name := field[string](t, e, "name")
		d.env = append(d.env, name)
		if ref, ok := e.(map[string]any)["valueFrom"]; ok {
			d.secretKeys[name] = field[string](t, ref, "secretKeyRef", "key")
			d.secretName = field[string](t, ref, "secretKeyRef", "name")
		}
	}
	d.listenPorts = map[int]bool{}
	for _, p := range field[[]any](t, c, "ports") {
		d.listenPorts[field[int](t, p, "containerPort")] = true
	}
	return d
}

// lookup sets exactly the variables names, to value.
func lookup(names []string, value string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if slices.Contains(names, name) {
			return value, true
		}
		return "", false
	}
}

// checkStore: the replicas share a PostgreSQL database, and the URL, which
// is not a secret field, holds no password.
func checkStore(t *testing.T, cfg *config.Config) {
	t.Helper()
	if driver, _ := cfg.StoreDSN(); driver != "postgres" {
		t.Errorf("store %q: want a postgres:// URL", cfg.Store)
		return
	}
	u, err := url.Parse(cfg.Store)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	if _, set := u.User.Password(); set || u.Query().Has("password") {
		t.Errorf("store: the URL holds a password; give it as PGPASSWORD")
	}
}

// checkListen: the daemon listens on every interface (probes and other
// containers reach it from outside the pod), on one of ports.
func checkListen(t *testing.T, cfg *config.Config, ports map[int]bool) {
	t.Helper()
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatalf("listen %q: %v", cfg.Listen, err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		t.Errorf("listen %q: only reachable from inside; want 0.0.0.0 or :PORT", cfg.Listen)
	}
	if n, _ := strconv.Atoi(port); !ports[n] {
		t.Errorf("listen %q: port %s is not one of the container's ports %v", cfg.Listen, port, ports)
	}
}

// parse loads a configuration as the daemon does, with the variables names
// set; it must load without a problem or a warning.
func parse(t *testing.T, text string, names []string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(text), config.Options{Channels: channelTypes, LookupEnv: lookup(names, secretValue)})
	if err != nil {
		t.Fatalf("the configuration does not load with the variables %v set:\n%v", names, err)
	}
	if len(cfg.Warnings) > 0 {
		t.Errorf("warnings:\n%s", strings.Join(cfg.Warnings, "\n"))
	}
	return cfg
}

// envFileKeys reads the keys of a kustomize env file (KEY=value lines,
// blank lines and # comments skipped).
func envFileKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var keys []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=value", path, line)
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}

// The ConfigMap's configuration loads with the environment the Deployment
// gives it, and with that environment only; and the Secret's keys are
// those that secrets.env.example lists.
func TestKubernetesConfig(t *testing.T) {
	dep := readDeployment(t)
	cm := kind(t, documents(t, "k8s/configmap.yaml"), "ConfigMap", dep.configMap)
	text := field[string](t, cm, "data", dep.configKey)

	cfg := parse(t, text, dep.env)
	checkStore(t, cfg)
	checkListen(t, cfg, dep.listenPorts)
	if !slices.Contains(dep.env, "PGPASSWORD") {
		t.Errorf("the Deployment sets no PGPASSWORD: the store: URL has no password")
	}

	example := envFileKeys(t, "k8s/secrets.env.example")
	for name, key := range dep.secretKeys {
		if !slices.Contains(example, key) {
			t.Errorf("env %s reads key %s of Secret %s, which secrets.env.example does not list", name, key, dep.secretName)
		}
	}
	for _, key := range example {
		if !slices.ContainsFunc(dep.env, func(name string) bool { return dep.secretKeys[name] == key }) {
			t.Errorf("secrets.env.example lists %s, which the Deployment does not read", key)
		}
	}

	// secrets.env.example says an empty value stops the start, naming the
	// key: true of every secret but the optional admin token.
	_, err := config.Parse([]byte(text), config.Options{Channels: channelTypes, LookupEnv: lookup(dep.env, "")})
	if err == nil {
		t.Fatal("the configuration loads with every secret empty")
	}
	for _, key := range []string{"access_token: required", "bot_token: required", "smtp.password: required"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("with every secret empty, no %q in:\n%v", key, err)
		}
	}

	// The daemon's own offline check agrees (it also builds the channels).
	runCheck(t, text, dep.env)
}

// composeFile is what the test reads of compose.yaml.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Profiles    []string          `yaml:"profiles"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Configs     []struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		} `yaml:"configs"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		Ports   []string `yaml:"ports"`
		Volumes []string `yaml:"volumes"`
	} `yaml:"services"`
	Configs map[string]struct {
		Content string `yaml:"content"`
	} `yaml:"configs"`
}

// composeVar is the variable a Compose value such as "${NAME:-}" or
// "${NAME:?set it}" reads.
func composeVar(v string) string {
	inner, ok := strings.CutPrefix(v, "${")
	if !ok || !strings.HasSuffix(inner, "}") {
		return ""
	}
	inner = strings.TrimSuffix(inner, "}")
	if i := strings.IndexAny(inner, ":-?"); i >= 0 {
		inner = inner[:i]
	}
	return inner
}

// The Compose file's PostgreSQL setup: PostgreSQL 17 with a health check
// and a volume, and two replicas that wait for it to be healthy and whose
// inline configuration loads with the environment Compose gives them.
func TestComposeConfig(t *testing.T) {
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}

	pg, ok := f.Services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}
	if pg.Image != "postgres:17" {
		t.Errorf("postgres image %q, want postgres:17", pg.Image)
	}
	if !slices.Contains(pg.Healthcheck.Test, "pg_isready") {
		t.Errorf("postgres health check %v does not run pg_isready", pg.Healthcheck.Test)
	}
	if !slices.ContainsFunc(pg.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/var/lib/postgresql/data") }) {
		t.Errorf("postgres volumes %v: the data directory is not on a volume", pg.Volumes)
	}
	pgPassword := composeVar(pg.Environment["POSTGRES_PASSWORD"])

	replicas := 0
	for name, s := range f.Services {
		if len(s.Configs) == 0 {
			continue
		}
		replicas++
		if len(s.Profiles) > 0 {
			t.Errorf("%s: in profiles %v; the PostgreSQL setup is the default", name, s.Profiles)
		}
		if s.DependsOn["postgres"].Condition != "service_healthy" {
			t.Errorf("%s: does not wait for postgres with condition: service_healthy", name)
		}
		if got := composeVar(s.Environment["PGPASSWORD"]); got == "" || got != pgPassword {
			t.Errorf("%s: PGPASSWORD is %q, not PostgreSQL's ${%s}", name, s.Environment["PGPASSWORD"], pgPassword)
		}
		i := slices.Index(s.Command, "--config")
		if i < 0 || i+1 >= len(s.Command) {
			t.Fatalf("%s: command %v has no --config FILE", name, s.Command)
		}
		var content string
		for _, c := range s.Configs {
			if c.Target == s.Command[i+1] {
				content = f.Configs[c.Source].Content
			}
		}
		if content == "" {
			t.Fatalf("%s: no inline config is mounted at %s", name, s.Command[i+1])
		}
		// Compose expands ${NAME} in the file itself, which would write the
		// secret into it (or nothing, when unset), and turns "$$" into "$":
		// the daemon must see the ${NAME} references, so each is escaped.
		if strings.Contains(strings.ReplaceAll(content, "$$", ""), "$") {
			t.Errorf("%s: the inline config has a $ that Compose would expand; write $${NAME}", name)
		}
		text := strings.ReplaceAll(content, "$$", "$")
		env := make([]string, 0, len(s.Environment))
		for k := range s.Environment {
			env = append(env, k)
		}
		t.Run(name, func(t *testing.T) {
			cfg := parse(t, text, env)
			checkStore(t, cfg)
			ports := map[int]bool{}
			for _, p := range s.Ports {
				n, _ := strconv.Atoi(p[strings.LastIndex(p, ":")+1:])
				ports[n] = true
			}
			checkListen(t, cfg, ports)
			runCheck(t, text, env)
		})
	}
	if replicas != 2 {
		t.Errorf("%d services with the inline configuration, want 2 replicas", replicas)
	}
	if s, ok := f.Services["syndicate"]; !ok || !slices.Contains(s.Profiles, "sqlite") {
		t.Errorf("the single-node SQLite service (syndicate, profile sqlite) is missing")
	}
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// runCheck runs `syndicate check` on the configuration text, offline, with
// the variables names set: the command operators run before deploying.
func runCheck(t *testing.T, text string, names []string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found: cannot build syndicate to run its check")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "syndicate-deploy-test-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "syndicate")
		if out, err := exec.Command(gobin, "build", "-o", binary, "../cmd/syndicate").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	path := filepath.Join(t.TempDir(), "syndicate.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "check", "--config", path)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for _, n := range names {
		cmd.Env = append(cmd.Env, n+"="+secretValue)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration ok") {
		t.Errorf("syndicate check: %v\n%s", err, out)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// channelTypes are the types of channel the deployed configurations use,
// as the command passes them to config.
var channelTypes = []config.ChannelType{
	config.NewChannelType("mastodon", mastodon.Decode),
	config.NewChannelType("telegram", telegram.Decode),
	config.NewChannelType("bluesky", bluesky.Decode),
}
