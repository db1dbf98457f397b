import XCTest
@testable import NetplugCore

final class JSONTests: XCTestCase {
    func testParsesAndWritesCompactly() throws {
        let value = try JSON.parse(#"{ "a": [1, true, null], "b": "x" }"#)
        XCTAssertEqual(value.text, #"{"a":[1,true,null],"b":"x"}"#)
        XCTAssertEqual(value["b"]?.string, "x")
        XCTAssertEqual(value["a"]?.elements.count, 3)
    }

    func testRejectsDuplicateKeysWithLineAndColumn() {
        XCTAssertThrowsError(try JSON.parse("{\"a\": 1,\n \"a\": 2}")) { error in
            let parse = error as! JSONParseError
            XCTAssertEqual(parse.line, 2)
            XCTAssertTrue(parse.text.contains("duplicate"), parse.text)
        }
    }

    func testRejectsTrailingText() {
        XCTAssertThrowsError(try JSON.parse(#"{"a": 1} {"b": 2}"#))
        XCTAssertThrowsError(try JSON.parse(#"{"a": 1} trailing"#))
    }

    func testMemberMatchesCaseInsensitivelyPreferringExact() throws {
        let value = try JSON.parse(#"{"networkid": "lower", "NetworkID": "exact"}"#)
        XCTAssertEqual(value.member("NetworkID")?.string, "exact")
        XCTAssertEqual(try JSON.parse(#"{"networkid": "lower"}"#).member("NetworkID")?.string, "lower")
    }

    func testStringsKeepUnicodeAndEscapes() throws {
        let value = JSON.object(["text": .string("quote \" slash \\ é")])
        XCTAssertEqual(try JSON.parse(value.bytes)["text"]?.string, "quote \" slash \\ é")
    }
}
