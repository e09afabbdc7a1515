# Installs the library, its headers, a CMake package (trident::trident) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS trident EXPORT tridentTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/trident DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# `cmake --install --strip` strips executables and shared libraries but leaves a static archive as
# it is (a plain `strip` would also drop the symbols a linker needs). Strip the archive's debug
# info only: that is most of a RelWithDebInfo archive's size, and the -O2 code stays as tested.
if(CMAKE_STRIP)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/$<TARGET_FILE_NAME:trident>\"
        COMMAND_ERROR_IS_FATAL ANY)
    endif()")
endif()
install(EXPORT tridentTargets NAMESPACE trident:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trident)

configure_package_config_file(cmake/tridentConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tridentConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trident)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tridentConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tridentConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/tridentConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/trident)

# The .pc file finds its prefix relative to itself, so an installed tree can be moved.
file(RELATIVE_PATH TRIDENT_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/trident.pc.in ${CMAKE_CURRENT_BINARY_DIR}/trident.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/trident.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
