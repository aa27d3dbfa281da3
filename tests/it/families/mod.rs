//! ss's families and tables: selection (`-f`, `-A` with -t -u -x -4 -6) and, as they land,
//! the tables beyond TCP, UDP and unix.

mod extras;
mod selection;
mod tables;
