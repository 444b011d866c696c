# Kubernetes targets, included by the Makefile. OVERLAY picks deploy/k8s/overlays/<name>.
OVERLAY ?= prod
K8S_RENDER := build/k8s-$(OVERLAY).yaml
MIGRATE := app.kubernetes.io/component=migrate
DEV_SECRET := deploy/k8s/overlays/dev/secret.env

.PHONY: k8s-check k8s-render k8s-deploy k8s-namespace

k8s-check: $(STAMP)  ## offline chain: yamllint, kustomize, schemas (CRDs too), semantics, policy, promtool
	$(BIN)/pytest -q -p no:cacheprovider tests/k8s

# A fresh clone has no dev secret.env (git-ignored): write one from the example, fresh key.
$(DEV_SECRET):
	umask 077 && sed "s/^SECRET_KEY=.*/SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')/" \
	  deploy/k8s/secret.env.example > $@

# Rendered beside the target and moved in only once whole and, outside dev, free of
# placeholders: a failed render never leaves an empty or half-checked file behind.
k8s-render: $(STAMP) $(if $(filter dev,$(OVERLAY)),$(DEV_SECRET))  ## what kubectl apply -k sends, in build/k8s-<overlay>.yaml (OVERLAY=dev|prod)
	@mkdir -p build
	@$(BIN)/kubectl kustomize deploy/k8s/overlays/$(OVERLAY) > $(K8S_RENDER).part \
	  || { rm -f $(K8S_RENDER).part; exit 1; }
	@if [ "$(OVERLAY)" != dev ]; then $(BIN)/python scripts/k8s_placeholders.py $(K8S_RENDER).part \
	  || { rm -f $(K8S_RENDER).part; exit 1; }; fi
	@mv $(K8S_RENDER).part $(K8S_RENDER)
	@echo "rendered $(K8S_RENDER)"

k8s-namespace: $(STAMP)  ## the overlay's namespace, applied on its own (kubectl delete -k leaves it)
	$(BIN)/kubectl apply -f deploy/k8s/namespaces/$(OVERLAY).yaml

# In kubectl's current context: the namespace, then a fresh migration Job (with everything it
# needs) first, awaited, where the bake has one (PostgreSQL's; SQLite migrates in the pod's init
# container), then the rest, then the rollout awaited. The Job is named after the image tag;
# deleting this render's Job first reruns it when the same tag is deployed again.
k8s-deploy: k8s-render  ## {{ "migrate, then roll out" if cookiecutter.database == "postgresql" else "apply, then await the rollout" }}: make k8s-deploy OVERLAY=prod
	$(BIN)/kubectl apply -f deploy/k8s/namespaces/$(OVERLAY).yaml
	$(BIN)/kubectl delete --ignore-not-found --wait -f $(K8S_RENDER) -l $(MIGRATE)
	$(BIN)/kubectl apply -f $(K8S_RENDER) -l 'app.kubernetes.io/component!=web'
	if grep -q '$(subst =,: ,$(MIGRATE))' $(K8S_RENDER); then \
	  $(BIN)/kubectl wait --for=condition=complete --timeout=10m -f $(K8S_RENDER) -l $(MIGRATE); fi
	$(BIN)/kubectl apply -f $(K8S_RENDER)
	$(BIN)/kubectl rollout status --timeout=10m -f $(K8S_RENDER) -l app.kubernetes.io/component=web
