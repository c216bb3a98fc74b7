/* k8s.h: `tide k8s manifest SCENARIO --segments N --image IMG [--host URL] [--name NAME]
 * [--start-delay D]`: prints the Kubernetes manifests of a split test (docs/distributed.md)
 * so users need not edit YAML by hand: a ConfigMap holding the scenario, a ReadWriteMany
 * PVC, the setup Job, the Indexed Job of the N segments (completionMode Indexed, parallelism
 * = completions = N, backoffLimit 0, restartPolicy Never) and the teardown + merge Job, the
 * same shapes as examples/kubernetes. */
#ifndef TIDE_K8S_H
#define TIDE_K8S_H

/* argv[0] is "k8s". Returns the exit code. */
int tide_k8s_main(int argc, char **argv);

#endif
