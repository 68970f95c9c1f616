import Foundation
import WaymarkRunner

// The executor lands with its own issue; until then the command says so plainly.
FileHandle.standardError.write(Data("waymark-run: not yet: bundle execution is not implemented in this build\n".utf8))
exit(2)
