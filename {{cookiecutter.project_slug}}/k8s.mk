# Kubernetes targets, included by the Makefile. OVERLAY picks deploy/k8s/overlays/<name>.
OVERLAY ?= prod
K8S_RENDER := build/k8s-$(OVERLAY).yaml
MIGRATE := app.kubernetes.io/component=migrate

.PHONY: k8s-check k8s-render k8s-deploy

k8s-check: $(STAMP)  ## offline chain: yamllint, kustomize, schemas, semantics, security policy
	$(BIN)/pytest -q -p no:cacheprovider tests/k8s

k8s-render: $(STAMP)  ## what kubectl apply -k sends, in build/k8s-<overlay>.yaml (OVERLAY=dev|prod)
	@mkdir -p build
	$(BIN)/kubectl kustomize deploy/k8s/overlays/$(OVERLAY) > $(K8S_RENDER)
	@echo "rendered $(K8S_RENDER)"

# In kubectl's current context: a fresh migration Job (with everything it needs) first, awaited,
# where the bake has one (PostgreSQL's; SQLite migrates in the pod's init container), then the
# rest, then the rollout awaited.
k8s-deploy: k8s-render  ## {{ "migrate, then roll out" if cookiecutter.database == "postgresql" else "apply, then await the rollout" }}: make k8s-deploy OVERLAY=prod
	$(BIN)/kubectl delete --ignore-not-found --wait -f $(K8S_RENDER) -l $(MIGRATE)
	$(BIN)/kubectl apply -f $(K8S_RENDER) -l 'app.kubernetes.io/component!=web'
	if grep -q '$(subst =,: ,$(MIGRATE))' $(K8S_RENDER); then \
	  $(BIN)/kubectl wait --for=condition=complete --timeout=10m -f $(K8S_RENDER) -l $(MIGRATE); fi
	$(BIN)/kubectl apply -f $(K8S_RENDER)
	$(BIN)/kubectl rollout status --timeout=10m -f $(K8S_RENDER) -l app.kubernetes.io/component=web
