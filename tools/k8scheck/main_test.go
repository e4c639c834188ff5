package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const manifests = "../../deploy/k8s"

func TestManifestsPass(t *testing.T) {
	report, err := check(manifests)
	if err != nil {
		t.Fatalf("the project's manifests fail:\n%v", err)
	}
	for _, want := range []string{"Deployment/syndicate", "Service/syndicate", "PodDisruptionBudget/syndicate", "ConfigMap/syndicate-config", "Secret/syndicate-secrets-"} {
		if !strings.Contains(report, want) {
			t.Errorf("report does not name %s:\n%s", want, report)
		}
	}
}

// broken copies the manifests into a temporary directory, replacing old
// with new in file (old must be there).
func broken(t *testing.T, file, old, new string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(manifests)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.IsDir() || e.Name() == "secrets.env" {
			continue // a filled-in secrets.env never leaves its directory
		}
		b, err := os.ReadFile(filepath.Join(manifests, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == file {
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s does not contain %q", file, old)
			}
			b, found = []byte(strings.Replace(string(b), old, new, 1)), true
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !found && old != "" {
		t.Fatalf("no file %s", file)
	}
	return dir
}

// Each mistake is caught, and the message says where and what.
func TestMistakesFail(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"unknown field", "deployment.yaml", "  replicas: 3\n", "  replicas: 3\n  replica: 3\n",
			`deployment.yaml#1: Deployment: unknown field "spec.replica"`},
		{"wrong type", "deployment.yaml", "  replicas: 3\n", "  replicas: three\n", "deployment.yaml#1: Deployment:"},
		{"misspelt nested field", "deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true", `unknown field "spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"`},
		{"bad quantity", "deployment.yaml", "memory: 256Mi", "memory: 256MB of RAM", "deployment.yaml#1: Deployment:"},
		{"duplicate key", "service.yaml", "  type: ClusterIP\n", "  type: ClusterIP\n  type: NodePort\n", `service.yaml#1: Service:`},
		{"unknown kind", "service.yaml", "kind: Service", "kind: Servise", "v1 Servise is not a kind this checker knows"},
		{"unknown kustomization field", "kustomization.yaml", "resources:", "resource:", `kustomization.yaml: invalid Kustomization`},
		{"missing resource", "kustomization.yaml", "  - service.yaml\n", "  - services.yaml\n", `resource "services.yaml"`},
		{"selector", "deployment.yaml", "    matchLabels:\n      app.kubernetes.io/name: syndicate\n  strategy", "    matchLabels:\n      app.kubernetes.io/name: syndicat\n  strategy",
			"Deployment/syndicate: spec.selector does not select the pod template's labels"},
		{"probe port", "deployment.yaml", "httpGet: { path: /readyz, port: http }", "httpGet: { path: /readyz, port: web }",
			`Deployment/syndicate: container syndicate: readinessProbe: port "web" is not a named port of the container (http)`},
		{"probe port number", "deployment.yaml", "httpGet: { path: /healthz, port: http }\n            periodSeconds: 10", "httpGet: { path: /healthz, port: 9090 }\n            periodSeconds: 10",
			"livenessProbe: port 9090 is not a port of the container"},
		{"no readiness probe", "deployment.yaml", "readinessProbe:", "x-readinessProbe:", `unknown field "spec.template.spec.containers[0].x-readinessProbe"`},
		{"secret key", "deployment.yaml", "key: SMTP_PASSWORD }", "key: SMTP_PASS }",
			`env SMTP_PASSWORD: Secret "syndicate-secrets-`},
		{"secret absent from example", "secrets.env.example", "PGPASSWORD=\n", "",
			`env PGPASSWORD: Secret "syndicate-secrets-`},
		{"config map name", "deployment.yaml", "name: syndicate-config", "name: syndicate-conf",
			`ConfigMap "syndicate-conf" is not in the build`},
		{"mount without volume", "deployment.yaml", "- name: tmp\n              mountPath: /tmp", "- name: temp\n              mountPath: /tmp",
			`volumeMounts[1]: no volume "temp"`},
		{"service target port", "service.yaml", "targetPort: http", "targetPort: https",
			`Service/syndicate: port http → Deployment/syndicate: port "https" is not a named port`},
		{"service selects nothing", "service.yaml", "  selector:\n    app.kubernetes.io/name: syndicate", "  selector:\n    app: syndicate",
			"Service/syndicate: the selector selects the pods of no workload"},
		{"pdb blocks evictions", "poddisruptionbudget.yaml", "maxUnavailable: 1", "minAvailable: 3",
			"minAvailable 3 with 3 replicas of Deployment/syndicate: no pod could ever be evicted"},
		{"root", "deployment.yaml", "runAsNonRoot: true", "runAsNonRoot: false", "runAsNonRoot is not true"},
		{"writable root", "deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem is not true"},
		{"no memory limit", "deployment.yaml", "            limits:\n              memory: 256Mi\n", "", "no memory limit"},
		{"invalid label", "service.yaml", "  labels:\n    app.kubernetes.io/name: syndicate", "  labels:\n    app.kubernetes.io/name: \"syndicate daemon\"", "Service/syndicate: metadata.labels: app.kubernetes.io/name="},
		{"no example for secrets.env", "secrets.env.example", "", "", "neither it nor secrets.env.example exists"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := broken(t, c.file, c.old, c.new)
			if c.name == "no example for secrets.env" {
				os.Remove(filepath.Join(dir, "secrets.env.example"))
			}
			_, err := check(dir)
			if err == nil {
				t.Fatal("passed")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error does not say %q:\n%v", c.want, err)
			}
		})
	}
}
