# hashmap_write_pc(<template> <output> <prefix> <libdir> <includedir>
#                  <version> <description>)
#
# Writes hashmap.pc. It runs at install time (see the top-level
# CMakeLists.txt), not at configure time, because `cmake --install --prefix`
# changes the prefix after configuring. A relative <libdir> or <includedir>
# (GNUInstallDirs' usual "lib", "include") becomes ${prefix}/<dir>; an
# absolute one, as distributions pass (-DCMAKE_INSTALL_LIBDIR=/usr/lib/...),
# is written as it is rather than glued onto the prefix (fmt's JoinPaths).

function(hashmap_pc_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

function(hashmap_write_pc template output prefix libdir includedir version description)
  set(pc_prefix "${prefix}")
  hashmap_pc_dir(pc_libdir "${libdir}")
  hashmap_pc_dir(pc_includedir "${includedir}")
  set(pc_version "${version}")
  set(pc_description "${description}")
  configure_file("${template}" "${output}" @ONLY)
endfunction()
