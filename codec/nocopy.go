package codec

// noCopy may be embedded into structs which must not be copied after first
// use; `go vet`'s copylocks check reports copies (see sync.noCopy).
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
