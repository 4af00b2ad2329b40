"""Scale-out on NATS JetStream (``[cluster]``): articles go into one work-queue stream, any number of
workers pull, tag and acknowledge them. Single-host mode needs none of this (see deploy/cluster.md)."""
