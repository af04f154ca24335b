@week2 @thursday @auction @annual
Feature: Week 2 Thursday - participant-requested scenarios and week 1 results
  Participants run the auction scenarios they asked the CRR team for, and look back at what
  their week 1 submissions produced.

  Background:
    Given the Market Sim plan is set up
    And it is Thursday 10:00 of week 2
    And the CRR team opens the submission window of the market "AUC_AN_2026"
    And I am the participant

  @plan:W2-THU-PARTICIPANT-SCENARIOS
  Scenario Outline: Participant-requested auction scenario: <scenario>
    Given I work in the annual auction market
    When I create the auction portfolio "<portfolio>" with these bids:
      | source   | sink   | tou   | mw   | price   | period   | hedge   |
      | <source> | <sink> | <tou> | <mw> | <price> | <period> | <hedge> |
    And I submit the auction portfolio "<portfolio>"
    Then the auction portfolio "<portfolio>" has status "SUBMITTED"

    Examples:
      | scenario                    | portfolio       | source           | sink           | tou | mw     | price  | period   | hedge |
      | option between trading hubs | PRS option      | TH_NP15_GEN-APND | TH_SP15_GEN-APND | ON  | 10     | 0.75   | 2026_S02 | OPT   |
      | off-peak counterflow bid    | PRS counterflow | DLAP_SCE-APND    | TH_SP15_GEN-APND | OFF | 4.125  | -1.50  | 2026_S04 | OBL   |
      | generator to load zone      | PRS gen to LAP  | DIABLO_7_N001    | SLAP_PGST-APND | ON  | 12.345 | 3.10   | 2026_S01 | OBL   |

  @plan:W2-THU-PARTICIPANT-SCENARIOS @negative
  Scenario: A bid at a node that is not biddable is refused
    Given I work in the annual auction market
    When I create the auction portfolio "PRS not biddable" with these bids:
      | source       | sink           | tou | mw | price |
      | SONGS_2_N101 | DLAP_PGAE-APND | ON  | 5  | 1.00  |
    Then the request is refused with HTTP 400
    And my auction portfolio list does not contain "PRS not biddable"

  @plan:W2-THU-WEEK1-RESULTS
  Scenario: View the results of the week 1 markets
    Given it is Tuesday 10:00 of week 1
    And I have submitted the nomination portfolio "March T1 to review" from the file "nominations_monthly.csv" in the monthly allocation market
    And it is Wednesday 10:00 of week 1
    And I have submitted the auction portfolio "March bids to review" from the file "auction_buy_bids.csv" in the monthly auction market
    And it is Thursday 10:00 of week 2
    When the CRR team runs the market "ALLOC_MN_2026_M03_T1" and posts the results
    And the CRR team runs the market "AUC_MN_2026_M03" and posts the results
    And I download "PRIVATE_AUCTION_RESULT" for "AUC_MN_2026_M03" as JSON
    Then I receive a ZIP archive holding JSON data
    When I download "PRIVATE_ALLOCATION_RESULT" for "ALLOC_MN_2026_M03_T1" as JSON
    Then I receive a ZIP archive holding JSON data
    When I download "PRIVATE_EXISTING_CRR_AUCTION" as CSV
    Then I receive a ZIP archive holding CSV data

  @plan:W2-THU-WEEK1-RESULTS @negative
  Scenario: My week 1 results are private
    Given I am participant "WCAL"
    When I ask for the "PRIVATE_AUCTION_RESULT" download of "ECAL" for "AUC_MN_2026_M03"
    Then the request is refused with error "SEC0001"

  @plan:W2-THU-WEEK1-RESULTS
  Scenario: Week 1 results cleared on the network: a counterflow bid is paid, an over-subscribed path is split
    Given it is Wednesday 10:00 of week 1
    And I am the only bidder in the monthly auction market
    When I create the auction portfolio "March on the network" with these bids:
      | source           | sink             | tou | mw  | price |
      | TH_NP15_GEN-APND | DLAP_SCE-APND    | ON  | 800 | 12.00 |
      | TH_NP15_GEN-APND | DLAP_SCE-APND    | ON  | 800 | 8.00  |
      | DLAP_SCE-APND    | TH_NP15_GEN-APND | ON  | 300 | -1.00 |
    And I submit the auction portfolio "March on the network"
    And the CRR team runs the market "AUC_MN_2026_M03" and posts the results
    And I download "PRIVATE_AUCTION_RESULT" for "AUC_MN_2026_M03" as JSON
    Then I am awarded more than 0 and less than 800 MW from "TH_NP15_GEN-APND" to "DLAP_SCE-APND" at 12.00 $/MW
    And I am awarded 300 MW from "DLAP_SCE-APND" to "TH_NP15_GEN-APND" at -12.00 $/MW
    When I download "CLEARING_PRICE" for "AUC_MN_2026_M03" as JSON
    Then every path's clearing price is its sink's node price minus its source's
    When I download "BINDING_CONSTRAINT" for "AUC_MN_2026_M03" as JSON
    Then the binding constraints are network branches at their limits with a shadow price
