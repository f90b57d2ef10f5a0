package probes

// Pressure reads <resource>.pressure ("memory", "cpu", "io") of the cgroup. The files exist
// on cgroup v2 with CONFIG_PSI (and on v1 only with the psi_v1 boot option).
func (d CgroupDir) Pressure(resource string) (PSI, error) {
	return readWith(d, resource+".pressure", ParsePSI)
}
