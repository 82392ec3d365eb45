package engine

import (
	"context"
	"net"
)

// Metadata is what the transport knows of the request that carried a
// call: where it came from and its headers. Handlers and middleware reach
// it through MetadataFrom; a call that does not ask costs nothing.
//
// It is valid until the handler returns, like everything borrowed from a
// request.
type Metadata interface {
	// RemoteAddr returns the peer's address.
	RemoteAddr() net.Addr
	// Header returns the value of the named request header, or nil.
	// The returned slice is valid until the Handler returns. Copy it to keep it.
	Header(name string) []byte
}

// MetadataKey is the context key under which transports expose Metadata:
// a transport's context answers Value(MetadataKey{}) with its Metadata.
type MetadataKey struct{}

// MetadataFrom returns the transport metadata of a call's context, or nil
// when the call did not come through a transport (Engine.Handle called
// directly). It allocates nothing.
func MetadataFrom(ctx context.Context) Metadata {
	m, _ := ctx.Value(MetadataKey{}).(Metadata)
	return m
}
