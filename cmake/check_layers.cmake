# The layers, enforced: every #include of every source file must name a module its folder may
# use. Run at every build (target check_layers) and as a test; a violation fails with file and
# line. Usage: cmake -DSOURCE_DIR=<checkout> -P cmake/check_layers.cmake
#
# Each rule: folder | casemail modules it may include | system headers it must not include
# (lists separated by commas).
set(rules
  "mime|mime|sqlite3.h,curl/,boost/asio"
  "matching|matching,mime|sqlite3.h,curl/,boost/asio"
  "templates|templates,mime|sqlite3.h,curl/,boost/asio"
  "store|store,matching,mime|curl/,boost/asio"
  "daemon/protocol|daemon/protocol,mime|sqlite3.h,curl/,boost/asio"
  "daemon/common|daemon/common,mime|sqlite3.h,boost/asio"
  "daemon/config|daemon/config,daemon/common,daemon/protocol,matching,mime|sqlite3.h,curl/,boost/asio"
  "daemon/inbound|daemon/inbound,store,matching,mime|sqlite3.h,curl/,boost/asio"
  "daemon/imap|daemon/imap,daemon/protocol,daemon/inbound,daemon/common,store,matching,mime|sqlite3.h,boost/asio"
  "daemon/relay|daemon/relay,daemon/protocol,daemon/common,store,matching,mime|sqlite3.h,curl/"
  "daemon/outbox|daemon/outbox,daemon/common,store,matching,templates,mime|sqlite3.h,boost/asio"
  "daemon/sla|daemon/sla,store,matching,mime|sqlite3.h,curl/,boost/asio"
  "daemon/workorder|daemon/workorder,daemon/config,store,matching,mime|sqlite3.h,curl/,boost/asio"
  "daemon/health|daemon/health,daemon/config,store,matching,mime|sqlite3.h,curl/,boost/asio"
  "daemon/metrics|daemon/metrics,daemon/common|sqlite3.h,curl/"
  "daemon/casemaild|daemon,store,matching,templates,mime|sqlite3.h,curl/"
  "daemon/cli|daemon/cli,daemon/config,daemon/health,daemon/workorder,daemon/inbound,daemon/relay/accept.hpp,daemon/outbox/acknowledgement.hpp,daemon/common/login.hpp,store,matching,templates,mime|sqlite3.h,curl/,boost/asio,crypt.h"
)
# Headers of these folders may not include these modules (what their .cpp files may use).
set(header_rules
  "store|mime/"
)

set(violations "")
foreach(rule ${rules})
  string(REPLACE "|" ";" parts "${rule}")
  list(GET parts 0 folder)
  list(GET parts 1 allowed)
  list(GET parts 2 forbidden)
  string(REPLACE "," ";" allowed "${allowed}")
  string(REPLACE "," ";" forbidden "${forbidden}")
  file(GLOB files ${SOURCE_DIR}/${folder}/*.hpp ${SOURCE_DIR}/${folder}/*.cpp)
  foreach(file ${files})
    file(STRINGS ${file} lines REGEX "^#include ")
    foreach(line ${lines})
      if(line MATCHES "^#include \"([^\"]+)\"")
        set(target "${CMAKE_MATCH_1}")
        set(ok FALSE)
        foreach(prefix ${allowed})
          string(LENGTH "${prefix}" n)
          string(SUBSTRING "${target}" 0 ${n} head)
          if(head STREQUAL prefix)
            set(ok TRUE)
          endif()
        endforeach()
        if(NOT ok)
          list(APPEND violations "${file}: includes \"${target}\"; ${folder}/ may use: ${allowed}")
        endif()
      elseif(line MATCHES "^#include <([^>]+)>")
        set(target "${CMAKE_MATCH_1}")
        foreach(prefix ${forbidden})
          string(LENGTH "${prefix}" n)
          string(SUBSTRING "${target}" 0 ${n} head)
          if(head STREQUAL prefix)
            list(APPEND violations "${file}: includes <${target}>, which ${folder}/ must not use")
          endif()
        endforeach()
      endif()
    endforeach()
  endforeach()
endforeach()
foreach(rule ${header_rules})
  string(REPLACE "|" ";" parts "${rule}")
  list(GET parts 0 folder)
  list(GET parts 1 module)
  file(GLOB headers ${SOURCE_DIR}/${folder}/*.hpp)
  foreach(file ${headers})
    file(STRINGS ${file} lines REGEX "^#include \"${module}")
    if(lines)
      list(APPEND violations "${file}: a ${folder}/ header includes ${module} (${lines})")
    endif()
  endforeach()
endforeach()
if(violations)
  list(JOIN violations "\n" text)
  message(FATAL_ERROR "layer violations:\n${text}")
endif()
