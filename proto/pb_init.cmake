# Run by proto/CMakeLists.txt on the header protoc-c generates (-DHEADER=path): the *__INIT
# macros initialise string fields with (char *)protobuf_c_empty_string, a cast that drops
# const. The macros expand in our code, so -Wcast-qual refuses them there: gcc forgives a
# cast spelled in a system header, clang does not. The cast through uintptr_t says the same
# thing without the warning, and is still a constant initializer.
file(READ "${HEADER}" text)
string(REPLACE "(char *)protobuf_c_empty_string" "(char *)(uintptr_t)protobuf_c_empty_string"
       text "${text}")
file(WRITE "${HEADER}" "${text}")
