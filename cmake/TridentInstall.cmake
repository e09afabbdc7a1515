# Installs the library, its headers, a CMake package (trident::trident) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS trident EXPORT tridentTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/trident DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
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
