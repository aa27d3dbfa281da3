//! Prometheus exporter. (Skeleton: owned by the export helper.)
