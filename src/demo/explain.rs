//! What the kernel shows for each scenario right now, and why. Pure functions of a snapshot.
