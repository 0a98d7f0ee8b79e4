"""A SIP user agent client for dialing (RFC 3261 over UDP) with an RTP receiver (RFC 3550).

No maintained SIP stack for Python has a licence we can ship (see issue 6), so the transaction
layer is ours: :mod:`.message` parses and builds messages, :mod:`.uac` places one call, listens to
it and ends it.
"""
