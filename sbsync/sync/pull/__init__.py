"""Pull: envelope, signed cursors, pages over the change index, and the request as a whole."""
