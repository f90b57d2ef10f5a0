package watch

// Fixtures of this package's tests (copies of inspect's: test files cannot be shared
// across packages).

const mib = 1 << 20

func u64(v uint64) *uint64 { return &v }
