"""Pages: the patron's (`patron`) and the desk's, by page group (`desk_*`)."""
