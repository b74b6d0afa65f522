// The module: the PNG reader and writer over libpng.
#include "png_reader.h"
#include "png_writer.h"
