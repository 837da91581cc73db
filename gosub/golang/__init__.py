"""Go's rules, pure and without I/O: module paths and escaping, semver, pseudo-versions,
go.mod reading, the module zip's file set and checks, and the h1: hash. Each file follows
the golang.org/x/mod or cmd/go source it names."""
