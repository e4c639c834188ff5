// Command k8scheck validates a kustomization of Kubernetes manifests
// offline, with nothing fetched at run time:
//
//   - kustomize builds it (sigs.k8s.io/kustomize/api, the library behind
//     `kubectl apply -k`), which also rejects unknown fields in
//     kustomization.yaml. A generator's env or file source that is absent
//     (secrets.env, which is never committed) is read from the same name
//     with ".example" added.
//   - every document of every resource file, and every object the build
//     outputs, is decoded strictly into its k8s.io/api type (the types the
//     API server decodes into), with the decoder of the API server's
//     strict field validation (sigs.k8s.io/json): an unknown or misspelt
//     field (names match case-sensitively), a duplicate key, a value of the
//     wrong type or an invalid quantity is an error.
//   - the objects are checked against each other: a workload's selector
//     selects its pod template; probes and Service target ports name
//     ports the containers declare; mounts name volumes; every ConfigMap
//     and Secret referenced (volumes, env, envFrom) is in the build, with
//     the keys referenced; a Service and a PodDisruptionBudget select pods
//     of a workload; names and labels are valid.
//   - and this project's rules for its daemon: liveness and readiness
//     probes, CPU and memory requests and a memory limit, a non-root user,
//     a read-only root filesystem and no privilege escalation.
//
// Usage: k8scheck DIR (the directory of kustomization.yaml). It prints the
// objects checked, or every problem found and exits 1.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: k8scheck DIR   (the directory of kustomization.yaml)")
		os.Exit(2)
	}
	report, err := check(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "k8scheck: %s: FAILED\n%v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Print(report)
}

// problems collects what is wrong, each prefixed by where.
type problems []string

func (p *problems) add(where, format string, args ...any) {
	*p = append(*p, where+": "+fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errors.New("  " + strings.Join(p, "\n  "))
}

// object is one decoded manifest.
type object struct {
	where string // file#document, or the build's Kind/name
	kind  string
	name  string
	obj   any // a pointer to the k8s.io/api type
}

// kinds maps apiVersion and kind to a new value of their type. A kind not
// listed is an error: add it here when the manifests need it.
var kinds = map[string]func() any{
	"v1/ConfigMap":                       func() any { return new(corev1.ConfigMap) },
	"v1/Secret":                          func() any { return new(corev1.Secret) },
	"v1/Service":                         func() any { return new(corev1.Service) },
	"v1/ServiceAccount":                  func() any { return new(corev1.ServiceAccount) },
	"apps/v1/Deployment":                 func() any { return new(appsv1.Deployment) },
	"apps/v1/StatefulSet":                func() any { return new(appsv1.StatefulSet) },
	"policy/v1/PodDisruptionBudget":      func() any { return new(policyv1.PodDisruptionBudget) },
	"networking.k8s.io/v1/Ingress":       func() any { return new(networkingv1.Ingress) },
	"networking.k8s.io/v1/NetworkPolicy": func() any { return new(networkingv1.NetworkPolicy) },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any {
		return new(autoscalingv2.HorizontalPodAutoscaler)
	},
}

// decode decodes one document strictly into its type.
func decode(where string, doc []byte) (object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return object{}, fmt.Errorf("%s: %v", where, err)
	}
	if tm.APIVersion == "" || tm.Kind == "" {
		return object{}, fmt.Errorf("%s: apiVersion and kind are required", where)
	}
	mk, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return object{}, fmt.Errorf("%s: %s %s is not a kind this checker knows", where, tm.APIVersion, tm.Kind)
	}
	obj := mk()
	j, err := yaml.YAMLToJSONStrict(doc) // a duplicate key is an error
	if err != nil {
		return object{}, fmt.Errorf("%s: %s: %v", where, tm.Kind, err)
	}
	// The decoder of the API server's strict field validation: field names
	// match case-sensitively (encoding/json would take
	// readOnlyRootFileSystem for readOnlyRootFilesystem), and every unknown
	// field is reported, not only the first.
	strict, err := sigsjson.UnmarshalStrict(j, obj, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return object{}, fmt.Errorf("%s: %s: %v", where, tm.Kind, err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return object{}, fmt.Errorf("%s: %s: %s", where, tm.Kind, strings.Join(msgs, "; "))
	}
	name := obj.(metav1.Object).GetName()
	return object{where: where, kind: tm.Kind, name: name, obj: obj}, nil
}

// documents splits a multi-document YAML file, leaving out empty ones.
func documents(data []byte) ([][]byte, error) {
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		var v any
		if err := yaml.Unmarshal(doc, &v); err != nil {
			return nil, err
		}
		if v != nil {
			docs = append(docs, doc)
		}
	}
}

func check(dir string) (string, error) {
	var probs problems
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return "", err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil { // rejects unknown fields
		return "", fmt.Errorf("kustomization.yaml: %v", err)
	}

	// Each resource file, as written.
	for _, res := range k.Resources {
		if strings.Contains(res, "://") || strings.HasPrefix(res, "/") || strings.Contains(res, "..") {
			probs.add("kustomization.yaml", "resource %q: only files beside kustomization.yaml are checked", res)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, res))
		if err != nil {
			probs.add("kustomization.yaml", "resource %q: %v", res, pathErr(err))
			continue
		}
		docs, err := documents(raw)
		if err != nil {
			probs.add(res, "%v", err)
			continue
		}
		for i, doc := range docs {
			if _, err := decode(fmt.Sprintf("%s#%d", res, i+1), doc); err != nil {
				probs = append(probs, err.Error())
			}
		}
	}
	if len(probs) > 0 {
		return "", probs.err()
	}

	// The build, as it would be applied.
	fsys, notes, err := memFS(dir, &k)
	if err != nil {
		return "", err
	}
	built, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, "/k")
	if err != nil {
		return "", fmt.Errorf("kustomize build: %v", err)
	}
	var objs []object
	for _, r := range built.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			return "", err
		}
		o, err := decode("build: "+r.GetKind()+"/"+r.GetName(), doc)
		if err != nil {
			probs = append(probs, err.Error())
			continue
		}
		o.where = o.kind + "/" + o.name
		objs = append(objs, o)
	}
	if len(probs) == 0 {
		probs = append(probs, crossCheck(objs)...)
	}
	if err := probs.err(); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, n := range notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.where
	}
	fmt.Fprintf(&b, "%s: ok: %d objects (%s) decode strictly into the Kubernetes API types and agree with each other\n",
		dir, len(objs), strings.Join(names, ", "))
	return b.String(), nil
}

// memFS copies dir into an in-memory file system at /k, adding for each
// generator source that is absent its ".example" twin.
func memFS(dir string, k *types.Kustomization) (filesys.FileSystem, []string, error) {
	fsys := filesys.MakeFsInMemory()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return fsys.WriteFile(path.Join("/k", filepath.ToSlash(rel)), b)
	})
	if err != nil {
		return nil, nil, err
	}
	var sources []string
	for _, g := range k.SecretGenerator {
		sources = append(sources, generatorFiles(g.GeneratorArgs)...)
	}
	for _, g := range k.ConfigMapGenerator {
		sources = append(sources, generatorFiles(g.GeneratorArgs)...)
	}
	var notes []string
	for _, src := range sources {
		p := path.Join("/k", src)
		if fsys.Exists(p) {
			continue
		}
		if !fsys.Exists(p + ".example") {
			return nil, nil, fmt.Errorf("kustomization.yaml: generator source %s: neither it nor %s.example exists", src, src)
		}
		b, err := fsys.ReadFile(p + ".example")
		if err != nil {
			return nil, nil, err
		}
		if err := fsys.WriteFile(p, b); err != nil {
			return nil, nil, err
		}
		notes = append(notes, fmt.Sprintf("%s is absent (it is never committed): built with %s.example", src, src))
	}
	return fsys, notes, nil
}

// generatorFiles lists the files a generator reads.
func generatorFiles(g types.GeneratorArgs) []string {
	files := slices.Clone(g.EnvSources)
	if g.EnvSource != "" {
		files = append(files, g.EnvSource)
	}
	for _, f := range g.FileSources {
		if _, p, ok := strings.Cut(f, "="); ok {
			f = p
		}
		files = append(files, f)
	}
	return files
}

func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// workload is a pod template and what selects it.
type workload struct {
	where    string
	replicas int32
	selector *metav1.LabelSelector
	pod      *corev1.PodTemplateSpec
}

// crossCheck checks the built objects against each other and the rules.
func crossCheck(objs []object) problems {
	var probs problems
	configMaps := map[string]map[string]bool{}
	secrets := map[string]map[string]bool{}
	var workloads []workload
	for _, o := range objs {
		checkMeta(&probs, o)
		switch v := o.obj.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = keys(v.Data, v.BinaryData)
		case *corev1.Secret:
			secrets[v.Name] = keys(v.StringData, v.Data)
		case *appsv1.Deployment:
			workloads = append(workloads, workload{o.where, replicas(v.Spec.Replicas), v.Spec.Selector, &v.Spec.Template})
		case *appsv1.StatefulSet:
			workloads = append(workloads, workload{o.where, replicas(v.Spec.Replicas), v.Spec.Selector, &v.Spec.Template})
		}
	}
	refs := refChecker{configMaps: configMaps, secrets: secrets, probs: &probs}
	for _, w := range workloads {
		checkWorkload(&probs, w, refs)
	}
	for _, o := range objs {
		switch v := o.obj.(type) {
		case *corev1.Service:
			checkService(&probs, o.where, v, workloads)
		case *policyv1.PodDisruptionBudget:
			checkPDB(&probs, o.where, v, workloads)
		}
	}
	return probs
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func keys[V any, W any](a map[string]V, b map[string]W) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func checkMeta(probs *problems, o object) {
	m := o.obj.(metav1.Object)
	isName := validation.IsDNS1123Subdomain
	if o.kind == "Service" {
		isName = validation.IsDNS1035Label
	}
	if m.GetName() == "" {
		probs.add(o.where, "metadata.name is required")
	}
	for _, msg := range isName(m.GetName()) {
		probs.add(o.where, "metadata.name %q: %s", m.GetName(), msg)
	}
	checkLabels(probs, o.where+": metadata.labels", m.GetLabels())
}

func checkLabels(probs *problems, where string, l map[string]string) {
	for k, v := range l {
		for _, msg := range validation.IsQualifiedName(k) {
			probs.add(where, "key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			probs.add(where, "%s=%q: %s", k, v, msg)
		}
	}
}

// selects reports whether sel selects the labels l; a nil or empty
// selector selects nothing here (a workload's must not be empty).
func selects(sel *metav1.LabelSelector, l map[string]string) (bool, error) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, err
	}
	return s.Matches(labels.Set(l)), nil
}

type refChecker struct {
	configMaps, secrets map[string]map[string]bool
	probs               *problems
}

// ref checks that the ConfigMap or Secret name exists, with the key when
// one is given, unless the reference is optional.
func (r refChecker) ref(where, what, name, key string, optional *bool) {
	if optional != nil && *optional {
		return
	}
	set := r.configMaps
	if what == "Secret" {
		set = r.secrets
	}
	ks, ok := set[name]
	switch {
	case !ok:
		r.probs.add(where, "%s %q is not in the build", what, name)
	case key != "" && !ks[key]:
		r.probs.add(where, "%s %q has no key %q (it has %s)", what, name, key, strings.Join(sortedKeys(ks), ", "))
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func checkWorkload(probs *problems, w workload, refs refChecker) {
	pod := w.pod
	checkLabels(probs, w.where+": spec.template.metadata.labels", pod.Labels)
	switch ok, err := selects(w.selector, pod.Labels); {
	case err != nil:
		probs.add(w.where, "spec.selector: %v", err)
	case !ok:
		probs.add(w.where, "spec.selector does not select the pod template's labels %v", pod.Labels)
	}
	volumes := map[string]bool{}
	for i, v := range pod.Spec.Volumes {
		where := fmt.Sprintf("%s: spec.template.spec.volumes[%d] (%s)", w.where, i, v.Name)
		if volumes[v.Name] {
			probs.add(where, "duplicate volume name")
		}
		volumes[v.Name] = true
		if cm := v.ConfigMap; cm != nil {
			refs.ref(where, "ConfigMap", cm.Name, "", cm.Optional)
			for _, it := range cm.Items {
				refs.ref(where, "ConfigMap", cm.Name, it.Key, cm.Optional)
			}
		}
		if s := v.Secret; s != nil {
			refs.ref(where, "Secret", s.SecretName, "", s.Optional)
			for _, it := range s.Items {
				refs.ref(where, "Secret", s.SecretName, it.Key, s.Optional)
			}
		}
	}
	if len(pod.Spec.Containers) == 0 {
		probs.add(w.where, "no containers")
	}
	all := append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...)
	for _, c := range all {
		where := fmt.Sprintf("%s: container %s", w.where, c.Name)
		for i, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				probs.add(where, "volumeMounts[%d]: no volume %q", i, m.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if s := e.ValueFrom.SecretKeyRef; s != nil {
				refs.ref(where+": env "+e.Name, "Secret", s.Name, s.Key, s.Optional)
			}
			if cm := e.ValueFrom.ConfigMapKeyRef; cm != nil {
				refs.ref(where+": env "+e.Name, "ConfigMap", cm.Name, cm.Key, cm.Optional)
			}
		}
		for i, e := range c.EnvFrom {
			if s := e.SecretRef; s != nil {
				refs.ref(fmt.Sprintf("%s: envFrom[%d]", where, i), "Secret", s.Name, "", s.Optional)
			}
			if cm := e.ConfigMapRef; cm != nil {
				refs.ref(fmt.Sprintf("%s: envFrom[%d]", where, i), "ConfigMap", cm.Name, "", cm.Optional)
			}
		}
	}
	for _, c := range pod.Spec.Containers {
		checkContainer(probs, fmt.Sprintf("%s: container %s", w.where, c.Name), &c, pod.Spec.SecurityContext)
	}
}

func checkContainer(probs *problems, where string, c *corev1.Container, podSec *corev1.PodSecurityContext) {
	if c.Image == "" {
		probs.add(where, "image is required")
	}
	names := map[string]bool{}
	numbers := map[int32]bool{}
	for _, p := range c.Ports {
		for _, msg := range validation.IsValidPortNum(int(p.ContainerPort)) {
			probs.add(where, "port %d: %s", p.ContainerPort, msg)
		}
		if p.Name != "" {
			for _, msg := range validation.IsValidPortName(p.Name) {
				probs.add(where, "port name %q: %s", p.Name, msg)
			}
			if names[p.Name] {
				probs.add(where, "duplicate port name %q", p.Name)
			}
			names[p.Name] = true
		}
		numbers[p.ContainerPort] = true
	}
	probe := func(name string, p *corev1.Probe, required bool) {
		if p == nil {
			if required {
				probs.add(where, "no %s", name)
			}
			return
		}
		var port *intstr.IntOrString
		switch {
		case p.HTTPGet != nil:
			port = &p.HTTPGet.Port
		case p.TCPSocket != nil:
			port = &p.TCPSocket.Port
		case p.GRPC != nil:
			if !numbers[p.GRPC.Port] {
				probs.add(where, "%s: port %d is not a container port", name, p.GRPC.Port)
			}
		case p.Exec == nil:
			probs.add(where, "%s: no handler (httpGet, tcpSocket, grpc or exec)", name)
		}
		if port != nil {
			checkPort(probs, where+": "+name, *port, names, numbers)
		}
	}
	probe("livenessProbe", c.LivenessProbe, true)
	probe("readinessProbe", c.ReadinessProbe, true)
	probe("startupProbe", c.StartupProbe, false)

	req, lim := c.Resources.Requests, c.Resources.Limits
	if _, ok := req[corev1.ResourceCPU]; !ok {
		probs.add(where, "no cpu request")
	}
	mreq, okReq := req[corev1.ResourceMemory]
	mlim, okLim := lim[corev1.ResourceMemory]
	if !okReq {
		probs.add(where, "no memory request")
	}
	if !okLim {
		probs.add(where, "no memory limit")
	}
	if okReq && okLim && mreq.Cmp(mlim) > 0 {
		probs.add(where, "memory request %s is above the limit %s", mreq.String(), mlim.String())
	}
	if cr, ok := req[corev1.ResourceCPU]; ok {
		if cl, ok := lim[corev1.ResourceCPU]; ok && cr.Cmp(cl) > 0 {
			probs.add(where, "cpu request %s is above the limit %s", cr.String(), cl.String())
		}
	}

	sec := c.SecurityContext
	nonRoot := podSec != nil && podSec.RunAsNonRoot != nil && *podSec.RunAsNonRoot
	if sec != nil && sec.RunAsNonRoot != nil {
		nonRoot = *sec.RunAsNonRoot
	}
	uid := (*int64)(nil)
	if podSec != nil {
		uid = podSec.RunAsUser
	}
	if sec != nil && sec.RunAsUser != nil {
		uid = sec.RunAsUser
	}
	if !nonRoot {
		probs.add(where, "runAsNonRoot is not true (in the pod's or the container's securityContext)")
	}
	if uid != nil && *uid == 0 {
		probs.add(where, "runAsUser is 0 (root)")
	}
	if sec == nil || sec.ReadOnlyRootFilesystem == nil || !*sec.ReadOnlyRootFilesystem {
		probs.add(where, "securityContext.readOnlyRootFilesystem is not true")
	}
	if sec == nil || sec.AllowPrivilegeEscalation == nil || *sec.AllowPrivilegeEscalation {
		probs.add(where, "securityContext.allowPrivilegeEscalation is not false")
	}
	if sec != nil && sec.Privileged != nil && *sec.Privileged {
		probs.add(where, "securityContext.privileged is true")
	}
}

// checkPort checks that a port given by name or number is one of the
// container's.
func checkPort(probs *problems, where string, port intstr.IntOrString, names map[string]bool, numbers map[int32]bool) {
	switch {
	case port.Type == intstr.String && !names[port.StrVal]:
		probs.add(where, "port %q is not a named port of the container (%s)", port.StrVal, strings.Join(sortedKeys(names), ", "))
	case port.Type == intstr.Int && !numbers[port.IntVal]:
		probs.add(where, "port %d is not a port of the container", port.IntVal)
	}
}

// selected returns the workloads whose pods sel selects.
func selected(probs *problems, where string, sel *metav1.LabelSelector, workloads []workload) []workload {
	var out []workload
	for _, w := range workloads {
		ok, err := selects(sel, w.pod.Labels)
		if err != nil {
			probs.add(where, "selector: %v", err)
			return nil
		}
		if ok {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		probs.add(where, "the selector selects the pods of no workload in the build")
	}
	return out
}

func checkService(probs *problems, where string, s *corev1.Service, workloads []workload) {
	if len(s.Spec.Selector) == 0 {
		probs.add(where, "spec.selector is empty")
		return
	}
	ws := selected(probs, where, &metav1.LabelSelector{MatchLabels: s.Spec.Selector}, workloads)
	for _, w := range ws {
		names := map[string]bool{}
		numbers := map[int32]bool{}
		for _, c := range w.pod.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name != "" {
					names[p.Name] = true
				}
				numbers[p.ContainerPort] = true
			}
		}
		for _, p := range s.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			checkPort(probs, fmt.Sprintf("%s: port %s → %s", where, p.Name, w.where), target, names, numbers)
		}
	}
}

func checkPDB(probs *problems, where string, p *policyv1.PodDisruptionBudget, workloads []workload) {
	if (p.Spec.MinAvailable == nil) == (p.Spec.MaxUnavailable == nil) {
		probs.add(where, "give exactly one of spec.minAvailable and spec.maxUnavailable")
	}
	for _, w := range selected(probs, where, p.Spec.Selector, workloads) {
		if m := p.Spec.MinAvailable; m != nil && m.Type == intstr.Int && m.IntVal >= w.replicas {
			probs.add(where, "minAvailable %d with %d replicas of %s: no pod could ever be evicted", m.IntVal, w.replicas, w.where)
		}
		if m := p.Spec.MaxUnavailable; m != nil && m.Type == intstr.Int && m.IntVal < 1 {
			probs.add(where, "maxUnavailable %d: no pod of %s could ever be evicted", m.IntVal, w.where)
		}
	}
}
