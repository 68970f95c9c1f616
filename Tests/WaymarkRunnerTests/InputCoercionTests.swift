import Foundation
import Testing
import WaymarkCodegen
import WaymarkDriver
import WaymarkRunner
import WaymarkTestSupport
import WaymarkEval

/// run()'s input is checked against its annotations before an instance exists: a refusal names
/// the parameter and the path inside it; tagged values may name only declared types.
@Suite struct InputCoercionTests {
    static func workflow(_ name: String) throws -> BundleWorkflow {
        let path = Fixtures.path("run", "coerced_inputs.py")
        let result = try Driver().compile(file: path)
        let bundle = try #require(try Driver().bundle(result, bundleDirectory: Fixtures.root.appendingPathComponent("run").path))
        return try #require(bundle.workflow(named: name))
    }

    static func refusal(_ input: String, _ workflow: String = "CoercedInputsWorkflow") throws -> String? {
        do {
            _ = try Runner.arguments(try JSON.parse(input), for: try Self.workflow(workflow))
            return nil
        } catch let error as RunnerError {
            return error.description
        }
    }

    @Test func aMismatchNamesTheParameterAndThePath() throws {
        let message = try Self.refusal(#"{"items": [{"sku": "a"}, {"sku": "b"}, {"sku": "c", "qty": "three"}], "count": 1, "ratio": 1, "flags": []}"#)
        #expect(message?.contains(#"items[2].qty: expected int, got "three""#) == true, "\(message ?? "accepted")")
    }

    @Test func aStringIsNotAList() throws {
        let message = try Self.refusal(#"{"items": "apple_1", "count": 1, "ratio": 1, "flags": []}"#)
        #expect(message?.contains(#"items: expected list[LineItem], got "apple_1""#) == true, "\(message ?? "accepted")")
    }

    @Test func aMissingFieldIsNamed() throws {
        let message = try Self.refusal(#"{"items": [{"qty": 1}], "count": 1, "ratio": 1, "flags": []}"#)
        #expect(message?.contains("items[0].sku: missing") == true, "\(message ?? "accepted")")
    }

    @Test func badStandardTypesAreRefused() throws {
        let input = #"{"window": {"start": "yesterday"}, "when": "2024-03-01T12:30:00", "day": "2024-12-31", "order_id": "not-a-uuid", "price": "1"}"#
        let message = try Self.refusal(input, "StandardInputsWorkflow")
        #expect(message?.contains(#"window.start: expected datetime, got "yesterday""#) == true, "\(message ?? "accepted")")
    }

    @Test func taggedValuesNameOnlyDeclaredTypes() throws {
        let message = try Self.refusal(#"{"items": [{"__wm__": "model", "type": "os.system", "fields": {}}], "count": 1, "ratio": 1, "flags": []}"#)
        #expect(message?.contains("'os.system'") == true, "\(message ?? "accepted")")
        let unknown = try Self.refusal(#"{"items": [], "count": {"__wm__": "pickle", "data": ""}, "ratio": 1, "flags": []}"#)
        #expect(unknown?.contains("'pickle'") == true, "\(unknown ?? "accepted")")
    }

    @Test func coercedInputsAreModels() throws {
        let arguments = try Runner.arguments(
            try JSON.parse(#"{"items": [{"sku": "a", "qty": "3"}], "count": "5", "ratio": 2, "flags": ["yes"]}"#),
            for: try Self.workflow("CoercedInputsWorkflow"))
        #expect(PyRepr.repr(try #require(arguments["count"])) == "5")
        #expect((try ValueCodec.plain(try #require(arguments["items"]))).serialized() == #"[{"sku":"a","qty":3,"note":null}]"#)
    }

    @Test func theDeclaredTypesAreTheAllowList() throws {
        let names = try Self.workflow("CoercedInputsWorkflow").declaredTypeNames
        #expect(names == ["coerced_inputs.LineItem", "coerced_inputs.Window"])
    }
}
